using VipProxy.Config.Diagnostics;

namespace VipProxy.Config.Syntax;

/// <summary>
/// Builds the statement tree from tokens by matching braces first. Because blocks are found by their
/// braces, not by knowing their keyword, a misspelled block name (<c>virtual_ipaddres {</c>) is one
/// unknown statement whose block is skipped as a whole — keepalived instead lets its <c>}</c> close the
/// enclosing block, and every later line lands one level too high.
/// </summary>
public sealed class SyntaxParser
{
    /// <summary>
    /// keepalived's deepest real nesting is a handful of levels; a file nested deeper is broken or hostile, and
    /// following it by recursion would overflow the stack and kill the process.
    /// </summary>
    public const int MaxBlockDepth = 64;

    private readonly IReadOnlyList<Token> _tokens;
    private readonly DiagnosticBag _diagnostics;
    private readonly IReadOnlySet<string> _topLevelBlocks;
    private int _position;
    private bool _reportedUnclosed;
    private int _depth;

    private SyntaxParser(IReadOnlyList<Token> tokens, DiagnosticBag diagnostics, IReadOnlySet<string> topLevelBlocks)
    {
        _tokens = tokens;
        _diagnostics = diagnostics;
        _topLevelBlocks = topLevelBlocks;
    }

    /// <param name="topLevelBlocks">
    /// Keywords that only ever open a top-level block (<c>vrrp_instance</c>, <c>virtual_server</c>…). Meeting one
    /// inside a block means that block lost its <c>}</c>: the parser says so once, at the opening brace, and
    /// goes on at the top level instead of reporting every later block as misplaced.
    /// </param>
    public static IReadOnlyList<Statement> Parse(IReadOnlyList<Token> tokens, DiagnosticBag diagnostics, IReadOnlySet<string> topLevelBlocks) =>
        new SyntaxParser(tokens, diagnostics, topLevelBlocks).ParseBody(opening: null, owner: null);

    private bool AtEnd => _position >= _tokens.Count;

    private Token Current => _tokens[_position];

    private List<Statement> ParseBody(Token? opening, Statement? owner)
    {
        var statements = new List<Statement>();
        // A statement that ended at a line end may still take a '{' that starts the next line.
        int blockCandidate = -1;
        while (!AtEnd)
        {
            Token token = Current;
            switch (token.Kind)
            {
                case TokenKind.EndOfLine:
                    _position++;
                    continue;
                case TokenKind.CloseBrace:
                    _position++;
                    if (opening is not null)
                    {
                        return statements;
                    }

                    _diagnostics.Error(token.Location, "unmatched '}': there is no open block to close here");
                    blockCandidate = -1;
                    continue;
                case TokenKind.OpenBrace:
                    _position++;
                    if (blockCandidate >= 0)
                    {
                        Statement target = statements[blockCandidate];
                        statements[blockCandidate] = target with { Block = new StatementBlock(token.Location, ParseNestedBody(token, target)) };
                    }
                    else
                    {
                        _diagnostics.Error(token.Location, "'{' does not follow a keyword: a block must be opened on the line of its keyword or the line after it");
                        ParseNestedBody(token, owner: null);
                    }

                    blockCandidate = -1;
                    continue;
                case TokenKind.Word when opening is not null && _topLevelBlocks.Contains(token.Text) && StartsLine():
                    ReportUnclosed(opening.Value, owner, $"before '{token.Text}' at line {token.Location.Line}");
                    return statements;
                default:
                    if (opening is null)
                    {
                        _reportedUnclosed = false;
                    }

                    Statement statement = ParseStatement(out bool endedAtLineEnd);
                    statements.Add(statement);
                    blockCandidate = endedAtLineEnd && statement.Block is null ? statements.Count - 1 : -1;
                    continue;
            }
        }

        if (opening is { } open)
        {
            ReportUnclosed(open, owner, "before the end of the file");
        }

        return statements;
    }

    // The body of a block whose '{' was just consumed, unless that is one level too many: then one error and the
    // whole block is skipped (by counting braces, not by recursion).
    private List<Statement> ParseNestedBody(Token open, Statement? owner)
    {
        if (_depth >= MaxBlockDepth)
        {
            _diagnostics.Error(open.Location, $"blocks nested deeper than {MaxBlockDepth} levels: this block is ignored");
            for (int depth = 1; !AtEnd && depth > 0; _position++)
            {
                depth += Current.Kind switch
                {
                    TokenKind.OpenBrace => 1,
                    TokenKind.CloseBrace => -1,
                    _ => 0,
                };
            }

            return [];
        }

        _depth++;
        try
        {
            return ParseBody(open, owner);
        }
        finally
        {
            _depth--;
        }
    }

    // Only one report per missing brace: the innermost open block takes the blame, and the blocks
    // around it, which are cut short by the same missing brace, stay silent.
    private void ReportUnclosed(Token open, Statement? owner, string where)
    {
        if (_reportedUnclosed)
        {
            return;
        }

        _reportedUnclosed = true;
        string what = owner is null ? "block" : $"'{Describe(owner)}' block";
        _diagnostics.Error(open.Location, $"this {what} is never closed: a '}}' is missing {where}");
    }

    private bool StartsLine() => _position == 0 || _tokens[_position - 1].Kind is TokenKind.EndOfLine or TokenKind.CloseBrace or TokenKind.OpenBrace;

    private Statement ParseStatement(out bool endedAtLineEnd)
    {
        Token keyword = Current;
        _position++;
        if (keyword.Kind == TokenKind.QuotedString)
        {
            _diagnostics.Error(keyword.Location, $"expected a keyword, found the quoted string \"{keyword.Text}\"");
        }

        var arguments = new List<Token>();
        while (!AtEnd && Current.Kind is TokenKind.Word or TokenKind.QuotedString)
        {
            arguments.Add(Current);
            _position++;
        }

        SourceLocation end = AtEnd ? (arguments.Count > 0 ? arguments[^1] : keyword).Location : Current.Location;
        var statement = new Statement(keyword, arguments, Block: null) { EndLocation = end };
        endedAtLineEnd = AtEnd || Current.Kind == TokenKind.EndOfLine;
        if (!AtEnd && Current.Kind == TokenKind.OpenBrace)
        {
            Token open = Current;
            _position++;
            statement = statement with { Block = new StatementBlock(open.Location, ParseNestedBody(open, statement)) };
        }

        return statement;
    }

    private static string Describe(Statement statement) =>
        statement.Arguments.Count == 0
            ? statement.Name
            : $"{statement.Name} {string.Join(' ', statement.Arguments.Select(a => a.Text))}";
}
