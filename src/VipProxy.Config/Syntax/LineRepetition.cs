using System.Globalization;

namespace VipProxy.Config.Syntax;

/// <summary>
/// A parsed <c>~SEQ(VAR, [START,] [STEP,] END) TEXT</c>, <c>~SEQx(…)</c> or <c>~LST(VAR, V1, V2, …) TEXT</c> /
/// <c>~LST({A, B}, {A1, B1}, {A2, B2}, …) TEXT</c> line: the rest of the line is read once per value (set), with the
/// variables defined as <c>$VAR</c> definitions, as keepalived 2.2's config reader does (lib/parser.c add_seq,
/// add_lst). Pure: the lexer does the repeating.
/// </summary>
internal sealed class LineRepetition
{
    private readonly long _start, _step;
    private readonly bool _hex;
    private readonly List<List<string>>? _lists;

    private LineRepetition(IReadOnlyList<string> variables, int textStart, long start, long step, long count, bool hex, List<List<string>>? lists)
    {
        Variables = variables;
        TextStart = textStart;
        Count = count;
        _start = start;
        _step = step;
        _hex = hex;
        _lists = lists;
    }

    /// <summary>The variables set on each pass (one for ~SEQ).</summary>
    public IReadOnlyList<string> Variables { get; }

    /// <summary>Where the repeated text starts in the line.</summary>
    public int TextStart { get; }

    /// <summary>How many times the text is read.</summary>
    public long Count { get; }

    /// <summary>The values of <see cref="Variables"/> on each pass, in order.</summary>
    public IEnumerable<IReadOnlyList<string>> Passes()
    {
        if (_lists is not null)
        {
            foreach (List<string> values in _lists)
            {
                yield return values;
            }

            yield break;
        }

        for (long i = 0; i < Count; i++)
        {
            long value = _start + (i * _step);
            yield return [_hex ? value.ToString("x", CultureInfo.InvariantCulture) : value.ToString(CultureInfo.InvariantCulture)];
        }
    }

    /// <summary>Whether the line (leading white space already skipped at <paramref name="at"/>) is a ~SEQ or ~LST line.</summary>
    public static bool Starts(string text, int at) =>
        string.CompareOrdinal(text, at, "~SEQ", 0, 4) == 0 || string.CompareOrdinal(text, at, "~LST", 0, 4) == 0;

    /// <summary>
    /// Parses the ~SEQ/~LST at <paramref name="at"/>. <paramref name="substitute"/> expands <c>$NAME</c> definitions in
    /// ~SEQ's numbers (keepalived allows them there, not in ~LST's values). On failure, <paramref name="problem"/> says
    /// what is wrong and <paramref name="problemAt"/> where.
    /// </summary>
    public static LineRepetition? Parse(string text, int at, Func<string, string?> substitute, out string problem, out int problemAt)
    {
        problem = "";
        problemAt = at;
        return text[at + 1] == 'S'
            ? ParseSequence(text, at, substitute, out problem, out problemAt)
            : ParseList(text, at, out problem, out problemAt);
    }

    private static LineRepetition? ParseSequence(string text, int at, Func<string, string?> substitute, out string problem, out int problemAt)
    {
        const string Usage = "write '~SEQ(VAR, [START,] [STEP,] END) TEXT'";
        problem = "";
        problemAt = at;
        int p = at + 4;
        bool hex = p < text.Length && text[p] == 'x';
        if (hex)
        {
            p++;
        }

        p = SkipBlanks(text, p);
        if (p >= text.Length || text[p] != '(')
        {
            problem = $"'(' expected after ~SEQ: {Usage}";
            problemAt = Math.Min(p, text.Length);
            return null;
        }

        p = SkipBlanks(text, p + 1);
        int nameStart = p;
        while (p < text.Length && text[p] is not (' ' or '\t' or ',' or ')'))
        {
            p++;
        }

        string variable = text[nameStart..p];
        p = SkipBlanks(text, p);
        if (variable.Length == 0 || p >= text.Length || text[p] != ',')
        {
            problem = $"~SEQ needs a variable name and then its numbers: {Usage}";
            problemAt = nameStart;
            return null;
        }

        int close = text.IndexOf(')', p);
        if (close < 0)
        {
            problem = $"~SEQ is missing its ')': {Usage}";
            problemAt = text.Length;
            return null;
        }

        int numbersAt = SkipBlanks(text, p + 1);

        string? numbers = substitute(text[(p + 1)..close]);
        if (numbers is null)
        {
            problem = "a ~SEQ number is a multi-line $definition";
            problemAt = numbersAt;
            return null;
        }

        var values = new List<long>();
        foreach (string part in numbers.Split(','))
        {
            if (!TryParseNumber(part, out long value))
            {
                problem = $"'{part.Trim()}' in ~SEQ is not a whole number (decimal, 0x hex or 0 octal): {Usage}";
                problemAt = numbersAt;
                return null;
            }

            values.Add(value);
        }

        long start, step, end;
        switch (values.Count)
        {
            case 1:
                end = values[0];
                step = end < 1 ? -1 : 1;
                start = end < 0 ? -1 : 1;
                break;
            case 2:
                (start, end) = (values[0], values[1]);
                step = start <= end ? 1 : -1;
                break;
            case 3:
                (start, step, end) = (values[0], values[1], values[2]);
                if (step == 0 || (start < end && step < 0) || (start > end && step > 0))
                {
                    problem = $"~SEQ from {start} to {end} in steps of {step} never reaches its end";
                    problemAt = numbersAt;
                    return null;
                }

                break;
            default:
                problem = $"~SEQ takes at most three numbers: {Usage}";
                problemAt = numbersAt;
                return null;
        }

        if (hex && (start < 0 || end < 0))
        {
            problem = "~SEQx is only for numbers that are not negative";
            problemAt = numbersAt;
            return null;
        }

        // Both differences have the sign of the step, so this is the number of values from start to end.
        Int128 count = (((Int128)end - start) / step) + 1;
        return new LineRepetition([variable], SkipBlanks(text, close + 1), start, step, count > long.MaxValue ? long.MaxValue : (long)count, hex, lists: null);
    }

    private static LineRepetition? ParseList(string text, int at, out string problem, out int problemAt)
    {
        const string Usage = "write '~LST(VAR, V1, V2, …) TEXT' or '~LST({VAR1, VAR2}, {V1, W1}, {V2, W2}, …) TEXT'";
        problem = "";
        problemAt = at;
        int p = SkipBlanks(text, at + 4);
        if (p >= text.Length || text[p] != '(')
        {
            problem = $"'(' expected after ~LST: {Usage}";
            problemAt = Math.Min(p, text.Length);
            return null;
        }

        p = SkipBlanks(text, p + 1);
        var variables = new List<string>();
        bool braced = p < text.Length && text[p] == '{';
        if (braced)
        {
            p = SkipBlanks(text, p + 1);
        }

        while (true)
        {
            int start = p;
            while (p < text.Length && text[p] is not (' ' or '\t' or ',' or '}' or ')'))
            {
                p++;
            }

            if (p == start)
            {
                problem = $"~LST is missing a variable name: {Usage}";
                problemAt = Math.Min(p, text.Length - 1);
                return null;
            }

            variables.Add(text[start..p]);
            p = SkipBlanks(text, p);
            if (!braced || (p < text.Length && text[p] == '}'))
            {
                break;
            }

            if (p >= text.Length || text[p] != ',')
            {
                problem = $"',' or '}}' expected between ~LST variables: {Usage}";
                problemAt = Math.Min(p, text.Length - 1);
                return null;
            }

            p = SkipBlanks(text, p + 1);
        }

        if (braced)
        {
            p = SkipBlanks(text, p + 1);
        }

        if (p >= text.Length || text[p] != ',')
        {
            problem = $"',' and the values expected after the ~LST variables: {Usage}";
            problemAt = Math.Min(p, text.Length - 1);
            return null;
        }

        p = SkipBlanks(text, p + 1);
        var lists = new List<List<string>>();
        while (true)
        {
            bool set = p < text.Length && text[p] == '{';
            if (set)
            {
                p = SkipBlanks(text, p + 1);
            }

            var values = new List<string>();
            while (true)
            {
                int start = p;
                while (p < text.Length && text[p] is not (' ' or '\t' or ',' or '}' or ')'))
                {
                    p++;
                }

                values.Add(text[start..p]);
                if (values.Count > variables.Count)
                {
                    problem = $"a ~LST value set has more values than the {variables.Count} variable(s)";
                    problemAt = start;
                    return null;
                }

                p = SkipBlanks(text, p);
                if (!set || (p < text.Length && text[p] == '}'))
                {
                    break;
                }

                if (p >= text.Length || text[p] != ',')
                {
                    problem = $"',' or '}}' expected between ~LST values: {Usage}";
                    problemAt = Math.Min(p, text.Length - 1);
                    return null;
                }

                p = SkipBlanks(text, p + 1);
            }

            // keepalived: the variables a set gives no value are empty.
            while (values.Count < variables.Count)
            {
                values.Add("");
            }

            lists.Add(values);
            if (set)
            {
                p = SkipBlanks(text, p + 1);
            }

            if (p < text.Length && text[p] == ')')
            {
                break;
            }

            if (p >= text.Length || text[p] != ',')
            {
                problem = $"',' or ')' expected between ~LST values: {Usage}";
                problemAt = Math.Min(p, text.Length - 1);
                return null;
            }

            p = SkipBlanks(text, p + 1);
        }

        return new LineRepetition(variables, SkipBlanks(text, p + 1), 0, 0, lists.Count, hex: false, lists);
    }

    // strtol(…, 0) as keepalived reads the numbers: an optional sign, then 0x hex, 0 octal or decimal; but the whole
    // part must be the number (keepalived would read garbage as 0).
    private static bool TryParseNumber(string part, out long value)
    {
        value = 0;
        string s = part.Trim(' ', '\t');
        bool negative = s.StartsWith('-');
        if (negative || s.StartsWith('+'))
        {
            s = s[1..];
        }

        bool ok;
        ulong magnitude = 0;
        if (s.StartsWith("0x", StringComparison.OrdinalIgnoreCase) && s.Length > 2)
        {
            ok = ulong.TryParse(s.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out magnitude);
        }
        else if (s.Length > 1 && s[0] == '0')
        {
            // 21 octal digits stay below 2^63.
            ok = s.Length <= 21 && s.All(c => c is >= '0' and <= '7');
            foreach (char c in ok ? s : "")
            {
                magnitude = (magnitude * 8) + (ulong)(c - '0');
            }
        }
        else
        {
            ok = s.Length > 0 && s.All(char.IsAsciiDigit) && ulong.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out magnitude);
        }

        if (!ok || magnitude > (negative ? (ulong)long.MaxValue + 1 : long.MaxValue))
        {
            return false;
        }

        value = negative ? (long)(0 - magnitude) : (long)magnitude;
        return true;
    }

    private static int SkipBlanks(string text, int i)
    {
        while (i < text.Length && text[i] is ' ' or '\t')
        {
            i++;
        }

        return i;
    }
}
