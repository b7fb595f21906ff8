using System.Text;
using VipProxy.Config.Diagnostics;
using VipProxy.Config.Text;

namespace VipProxy.Config.Syntax;

/// <summary>
/// Turns keepalived.conf text into tokens, doing what keepalived's reader does line by line:
/// <c>@ID</c> conditionals, <c>$NAME=value</c> definitions and their substitution, <c>#</c>/<c>!</c> comments,
/// <c>~SEQ</c>/<c>~LST</c> line repetition, <c>include</c> with globs, quoted strings, and braces glued to words or stacked.
/// Every token keeps the file, line and column it came from (text that came from a <c>$NAME</c>
/// expansion points at the place of the reference; every pass of a repeated line points at that line).
/// </summary>
public sealed class ConfigLexer
{
    private readonly IConfigFileSystem _files;
    private readonly LexerOptions _options;
    private readonly DiagnosticBag _diagnostics;
    private readonly Dictionary<string, List<string>> _definitions = new(StringComparer.Ordinal);
    private readonly Stack<string> _includeStack = new();
    private readonly List<Token> _tokens = [];
    private int _includedFiles;
    private long _repeatedLines;
    private long _expandedCharacters;
    private bool _reportedExpansion;

    public ConfigLexer(IConfigFileSystem files, LexerOptions options, DiagnosticBag diagnostics)
    {
        _files = files;
        _options = options;
        _diagnostics = diagnostics;
    }

    /// <summary>Reads <paramref name="path"/> and everything it includes into one token stream.</summary>
    public IReadOnlyList<Token> Lex(string path)
    {
        string? text = _files.TryReadAllText(path, out string? failure);
        if (text is null)
        {
            _diagnostics.Error(new SourceLocation(path, 0, 0), $"cannot read configuration file: {failure}");
            return _tokens;
        }

        LexText(path, text);
        return _tokens;
    }

    /// <summary>Lexes text that is not on disk (tests, and <c>check</c> on standard input).</summary>
    public IReadOnlyList<Token> LexText(string path, string text)
    {
        _includeStack.Push(Path.GetFullPath(path));
        try
        {
            LexLines(path, text);
        }
        finally
        {
            _includeStack.Pop();
        }

        return _tokens;
    }

    private void LexLines(string path, string text)
    {
        string[] lines = text.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n');
        for (int index = 0; index < lines.Length; index++)
        {
            int lineNumber = index + 1;
            var line = new MappedLine(path, lineNumber, lines[index]);

            if (!ApplyConditional(ref line))
            {
                continue;
            }

            if (TryReadDefinition(line, lines, ref index))
            {
                continue;
            }

            line = StripComment(line);
            ExpandLine(line, depth: 0);
        }
    }

    private void ExpandLine(MappedLine line, int depth)
    {
        int start = SkipSpaces(line.Text, 0);
        if (start < line.Text.Length && LineRepetition.Starts(line.Text, start))
        {
            Repeat(line, start, depth);
            return;
        }

        foreach (MappedLine expanded in SubstituteAll(line))
        {
            // A line of a multi-line definition may itself be a ~SEQ/~LST line (keepalived's own example repeats a
            // whole vrrp_instance that way).
            int at = SkipSpaces(expanded.Text, 0);
            if (at < expanded.Text.Length && LineRepetition.Starts(expanded.Text, at))
            {
                Repeat(expanded, at, depth + 1);
            }
            else
            {
                TokenizeLine(expanded);
            }
        }
    }

    // Substitutes until no defined $NAME is left, as keepalived does: a definition may use other definitions (or the
    // variable of a ~SEQ around it). The rounds are bounded so that definitions that refer to each other cannot hang.
    private List<MappedLine> SubstituteAll(MappedLine line)
    {
        if (_reportedExpansion && HasDefinedReference(line))
        {
            return [];
        }

        List<MappedLine> lines = [.. Substitute(line, warnUndefined: true)];
        long counted = line.Text.Length;
        for (int round = 0; round < MaxSubstitutionRounds && lines.Exists(l => HasDefinedReference(l) && !IsRepetition(l)); round++)
        {
            if (!WithinExpansionBudget(line, lines, ref counted))
            {
                return [];
            }

            var next = new List<MappedLine>();
            foreach (MappedLine current in lines)
            {
                // A ~SEQ/~LST line substitutes its text on each pass, with its variable set: not now.
                if (HasDefinedReference(current) && !IsRepetition(current))
                {
                    next.AddRange(Substitute(current, warnUndefined: false));
                }
                else
                {
                    next.Add(current);
                }
            }

            lines = next;
        }

        return WithinExpansionBudget(line, lines, ref counted) ? lines : [];
    }

    // A definition that uses itself twice ($A=$A $A) doubles the line on every round, and a ~SEQ may repeat a long
    // expansion many times: both are stopped (one error) before they cost more than reading a large file would.
    private bool WithinExpansionBudget(MappedLine line, List<MappedLine> lines, ref long counted)
    {
        long length = lines.Sum(l => (long)l.Text.Length);
        long grown = length - counted;
        if (grown <= 0)
        {
            return true;
        }

        counted = length;
        _expandedCharacters += grown;
        bool tooLong = lines.Exists(l => l.Text.Length > LexerOptions.MaxExpandedLineLength);
        if (!tooLong && _expandedCharacters <= LexerOptions.MaxExpandedCharacters)
        {
            return true;
        }

        if (!_reportedExpansion)
        {
            _reportedExpansion = true;
            _diagnostics.Error(line.LocationAt(SkipSpaces(line.Text, 0)), tooLong
                ? $"$NAME definitions make this line longer than {LexerOptions.MaxExpandedLineLength} characters: does a definition use itself?"
                : $"$NAME definitions make more than {LexerOptions.MaxExpandedCharacters} characters of text in this configuration");
        }

        return false;
    }

    private const int MaxSubstitutionRounds = 8;

    private static bool IsRepetition(MappedLine line)
    {
        int at = SkipSpaces(line.Text, 0);
        return at < line.Text.Length && LineRepetition.Starts(line.Text, at);
    }

    private bool HasDefinedReference(MappedLine line)
    {
        string text = line.Text;
        for (int i = text.IndexOf('$', StringComparison.Ordinal); i >= 0; i = text.IndexOf('$', i + 1))
        {
            if (TryReadReference(text, i, out string name, out _) && _definitions.ContainsKey(name))
            {
                return true;
            }
        }

        return false;
    }

    // "~SEQ(VAR, …) TEXT" and "~LST(VAR, …) TEXT": TEXT is read once per value with $VAR defined to it, as keepalived
    // 2.2 does; TEXT may itself start with ~SEQ or ~LST (nested loops, the outer one slowest). The variables stay
    // defined afterwards, as in keepalived.
    private void Repeat(MappedLine line, int start, int depth)
    {
        string kind = line.Text.Substring(start, 4);
        LineRepetition? repetition = LineRepetition.Parse(line.Text, start, text => SubstituteValue(line, text), out string problem, out int problemAt);
        if (repetition is null)
        {
            _diagnostics.Error(line.LocationAt(problemAt), $"invalid {kind}: {problem}");
            return;
        }

        if (depth >= LexerOptions.MaxRepetitionDepth)
        {
            _diagnostics.Error(line.LocationAt(start), $"~SEQ and ~LST nested deeper than {LexerOptions.MaxRepetitionDepth} on one line");
            return;
        }

        if (_repeatedLines + repetition.Count > LexerOptions.MaxRepeatedLines)
        {
            if (_repeatedLines <= LexerOptions.MaxRepeatedLines)
            {
                _diagnostics.Error(line.LocationAt(start), $"{kind} would make more than {LexerOptions.MaxRepeatedLines} lines in this configuration: is a range too wide?");
            }

            _repeatedLines = LexerOptions.MaxRepeatedLines + 1L;
            return;
        }

        _repeatedLines += repetition.Count;
        MappedLine text = line.Slice(repetition.TextStart);
        foreach (IReadOnlyList<string> values in repetition.Passes())
        {
            for (int i = 0; i < values.Count; i++)
            {
                _definitions[repetition.Variables[i]] = [values[i]];
            }

            MappedLine pass = text;
            if (ApplyConditional(ref pass))
            {
                ExpandLine(pass, depth + 1);
            }

            if (_repeatedLines > LexerOptions.MaxRepeatedLines)
            {
                return;
            }
        }
    }

    // The $NAME definitions in ~SEQ's numbers; null when one of them spans several lines.
    private string? SubstituteValue(MappedLine line, string text)
    {
        List<MappedLine> lines = SubstituteAll(new MappedLine(line.File, line.Line, text));
        return lines.Count == 1 ? lines[0].Text : null;
    }

    // "@ID rest" keeps "rest" only on node ID; "@^ID rest" keeps it everywhere but on node ID.
    private bool ApplyConditional(ref MappedLine line)
    {
        string text = line.Text;
        int start = SkipSpaces(text, 0);
        if (start >= text.Length || text[start] != '@')
        {
            return true;
        }

        int end = start + 1;
        while (end < text.Length && !char.IsWhiteSpace(text[end]))
        {
            end++;
        }

        bool negate = end > start + 1 && text[start + 1] == '^';
        string id = text[(start + (negate ? 2 : 1))..end];
        bool isThisNode = _options.NodeId is not null && string.Equals(id, _options.NodeId, StringComparison.Ordinal);
        if (isThisNode == negate)
        {
            return false;
        }

        line = line.Blank(start, end);
        return true;
    }

    // "$NAME=VALUE" (no space before '='), continued over lines ending in '\'.
    private bool TryReadDefinition(MappedLine line, string[] lines, ref int index)
    {
        string text = line.Text;
        int start = SkipSpaces(text, 0);
        if (start >= text.Length || text[start] != '$')
        {
            return false;
        }

        int nameEnd = start + 1;
        while (nameEnd < text.Length && IsNameChar(text[nameEnd]))
        {
            nameEnd++;
        }

        if (nameEnd == start + 1 || nameEnd >= text.Length || text[nameEnd] != '=')
        {
            return false;
        }

        string name = text[(start + 1)..nameEnd];
        var valueLines = new List<string>();
        string value = StripComment(new MappedLine(line.File, line.Line, text[(nameEnd + 1)..])).Text.TrimEnd();
        while (value.EndsWith('\\') && index + 1 < lines.Length)
        {
            valueLines.Add(value[..^1].TrimEnd());
            index++;
            value = StripComment(new MappedLine(line.File, index + 1, lines[index])).Text.TrimEnd();
        }

        valueLines.Add(value.TrimStart());
        if (valueLines.Count > 1)
        {
            valueLines[0] = valueLines[0].TrimStart();
        }

        if (_definitions.ContainsKey(name))
        {
            _diagnostics.Warning(line.LocationAt(start), $"${name} is defined again; the new value is used from here on");
        }

        _definitions[name] = valueLines;
        return true;
    }

    // '#' and '!' start a comment anywhere outside "…"; '\#' and '\!' stand for the characters themselves.
    private static MappedLine StripComment(MappedLine line)
    {
        string text = line.Text;
        bool inQuotes = false;
        var builder = new MappedLine.Builder(line.File, line.Line);
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (c == '\\' && i + 1 < text.Length && (text[i + 1] == '#' || text[i + 1] == '!') && !inQuotes)
            {
                builder.Append(text[i + 1], line.ColumnOf(i + 1));
                i++;
                continue;
            }

            if (c == '\\' && inQuotes && i + 1 < text.Length)
            {
                builder.Append(c, line.ColumnOf(i));
                builder.Append(text[i + 1], line.ColumnOf(i + 1));
                i++;
                continue;
            }

            if (c == '"')
            {
                inQuotes = !inQuotes;
            }
            else if (!inQuotes && (c == '#' || c == '!'))
            {
                break;
            }

            builder.Append(c, line.ColumnOf(i));
        }

        return builder.Build();
    }

    // "$NAME" followed by whitespace or end of line, or "${NAME}" anywhere. A multi-line definition
    // turns the line into several lines, as in keepalived.
    private IEnumerable<MappedLine> Substitute(MappedLine line, bool warnUndefined)
    {
        string text = line.Text;
        if (!text.Contains('$', StringComparison.Ordinal))
        {
            yield return line;
            yield break;
        }

        var output = new List<MappedLine>();
        var current = new MappedLine.Builder(line.File, line.Line);
        bool inQuotes = false;
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (c == '"')
            {
                inQuotes = !inQuotes;
            }

            if (c == '$' && TryReadReference(text, i, out string name, out int end))
            {
                int column = line.ColumnOf(i);
                if (_definitions.TryGetValue(name, out List<string>? value))
                {
                    for (int v = 0; v < value.Count; v++)
                    {
                        if (v > 0)
                        {
                            output.Add(current.Build());
                            current = new MappedLine.Builder(line.File, line.Line);
                        }

                        foreach (char valueChar in value[v])
                        {
                            current.Append(valueChar, column);
                        }
                    }

                    i = end - 1;
                    continue;
                }

                if (!inQuotes && warnUndefined)
                {
                    _diagnostics.Warning(line.LocationAt(i), $"${name} is not defined; the text is used as written");
                }
            }

            current.Append(c, line.ColumnOf(i));
        }

        output.Add(current.Build());
        foreach (MappedLine expanded in output)
        {
            yield return expanded;
        }
    }

    private static bool TryReadReference(string text, int dollar, out string name, out int end)
    {
        name = "";
        end = dollar;
        if (dollar + 1 < text.Length && text[dollar + 1] == '{')
        {
            int close = text.IndexOf('}', dollar + 2);
            if (close < 0)
            {
                return false;
            }

            name = text[(dollar + 2)..close];
            end = close + 1;
            return name.Length > 0 && name.All(IsNameChar);
        }

        int nameEnd = dollar + 1;
        while (nameEnd < text.Length && IsNameChar(text[nameEnd]))
        {
            nameEnd++;
        }
        // keepalived only substitutes a bare $NAME that ends at whitespace or the end of the line.
        if (nameEnd == dollar + 1 || nameEnd < text.Length && !char.IsWhiteSpace(text[nameEnd]))
        {
            return false;
        }

        name = text[(dollar + 1)..nameEnd];
        end = nameEnd;
        return true;
    }

    private void TokenizeLine(MappedLine line)
    {
        string text = line.Text;
        int firstTokenIndex = _tokens.Count;
        int i = 0;
        while (i < text.Length)
        {
            char c = text[i];
            if (char.IsWhiteSpace(c))
            {
                i++;
            }
            else if (c == '{' || c == '}')
            {
                _tokens.Add(new Token(c == '{' ? TokenKind.OpenBrace : TokenKind.CloseBrace, c.ToString(), line.LocationAt(i)));
                i++;
            }
            else if (c == '"')
            {
                i = ReadQuoted(line, i);
            }
            else
            {
                int start = i;
                while (i < text.Length && !char.IsWhiteSpace(text[i]) && text[i] != '{' && text[i] != '}' && text[i] != '"')
                {
                    i++;
                }

                _tokens.Add(new Token(TokenKind.Word, text[start..i], line.LocationAt(start)));
            }
        }

        if (_tokens.Count > firstTokenIndex && IsInclude(firstTokenIndex))
        {
            HandleInclude(firstTokenIndex);
            return;
        }

        if (_tokens.Count > firstTokenIndex)
        {
            _tokens.Add(new Token(TokenKind.EndOfLine, "", line.LocationAt(text.Length)));
        }
    }

    private int ReadQuoted(MappedLine line, int open)
    {
        string text = line.Text;
        var value = new StringBuilder();
        int i = open + 1;
        while (i < text.Length && text[i] != '"')
        {
            if (text[i] == '\\' && i + 1 < text.Length && (text[i + 1] == '"' || text[i + 1] == '\\'))
            {
                i++;
            }

            value.Append(text[i]);
            i++;
        }

        if (i >= text.Length)
        {
            _diagnostics.Error(line.LocationAt(open), "unterminated quoted string: a '\"' is missing before the end of the line");
        }

        _tokens.Add(new Token(TokenKind.QuotedString, value.ToString(), line.LocationAt(open)));
        return i + 1;
    }

    private bool IsInclude(int first) =>
        _tokens[first].Kind == TokenKind.Word && _tokens[first].Text == "include";

    // "include GLOB": the files' text takes the place of the line, as keepalived does.
    private void HandleInclude(int first)
    {
        Token keyword = _tokens[first];
        List<Token> arguments = _tokens.GetRange(first + 1, _tokens.Count - first - 1);
        _tokens.RemoveRange(first, _tokens.Count - first);
        if (arguments.Count != 1 || arguments[0].Kind is not (TokenKind.Word or TokenKind.QuotedString))
        {
            _diagnostics.Error(keyword.Location, "include expects exactly one file name or glob pattern");
            return;
        }

        if (_includeStack.Count >= LexerOptions.MaxIncludeDepth)
        {
            _diagnostics.Error(keyword.Location, $"includes nested deeper than {LexerOptions.MaxIncludeDepth} levels");
            return;
        }

        string pattern = arguments[0].Text;
        if (pattern.Contains('\0', StringComparison.Ordinal))
        {
            // No path can hold a NUL; .NET's path APIs throw on one, which must not take the loader down.
            _diagnostics.Error(arguments[0].Location, "include path contains a NUL character");
            return;
        }

        string baseDirectory = Path.GetDirectoryName(_includeStack.Peek()) ?? ".";
        string resolved = Path.IsPathRooted(pattern) ? pattern : Path.Combine(baseDirectory, pattern);
        IReadOnlyList<string> files = _files.ExpandGlob(resolved);
        if (files.Count == 0)
        {
            // A glob that matches nothing is an empty conf.d, which is normal; a named file that is
            // missing is a mistake (keepalived 2.2.7 only warns, and then runs without it).
            if (!GlobPattern.HasWildcards(Path.GetFileName(pattern)))
            {
                _diagnostics.Error(arguments[0].Location, $"included file '{resolved}' does not exist");
            }

            return;
        }

        foreach (string file in files)
        {
            string full = Path.GetFullPath(file);
            if (_includeStack.Contains(full))
            {
                _diagnostics.Error(arguments[0].Location, $"'{file}' includes itself (through {string.Join(" -> ", _includeStack.Reverse().Select(Path.GetFileName))})");
                continue;
            }

            if (++_includedFiles > LexerOptions.MaxIncludedFiles)
            {
                if (_includedFiles == LexerOptions.MaxIncludedFiles + 1)
                {
                    _diagnostics.Error(arguments[0].Location, $"more than {LexerOptions.MaxIncludedFiles} files included: files that include each other?");
                }

                return;
            }

            string? text = _files.TryReadAllText(file, out string? failure);
            if (text is null)
            {
                _diagnostics.Error(arguments[0].Location, $"cannot read included file '{file}': {failure}");
                continue;
            }

            _includeStack.Push(full);
            try
            {
                LexLines(file, text);
            }
            finally
            {
                _includeStack.Pop();
            }
        }
    }

    private static int SkipSpaces(string text, int i)
    {
        while (i < text.Length && char.IsWhiteSpace(text[i]))
        {
            i++;
        }

        return i;
    }

    private static bool IsNameChar(char c) => char.IsAsciiLetterOrDigit(c) || c == '_';
}
