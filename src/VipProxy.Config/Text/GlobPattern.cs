namespace VipProxy.Config.Text;

/// <summary>
/// Shell glob matching for one path segment, as glob(3) does for keepalived's <c>include</c>:
/// <c>*</c>, <c>?</c>, and bracket classes <c>[abc]</c>, <c>[a-z]</c>, <c>[!x]</c>.
/// </summary>
public static class GlobPattern
{
    public static bool HasWildcards(string segment) => segment.AsSpan().IndexOfAny("*?[") >= 0;

    public static bool IsMatch(ReadOnlySpan<char> pattern, ReadOnlySpan<char> name)
    {
        // Iterative matcher with single-star backtracking: linear for the patterns people write.
        int p = 0, n = 0, starP = -1, starN = 0;
        while (n < name.Length)
        {
            if (p < pattern.Length && pattern[p] == '*')
            {
                starP = p++;
                starN = n;
                continue;
            }

            if (p < pattern.Length && MatchOne(pattern, ref p, name[n]))
            {
                n++;
                continue;
            }

            if (starP < 0)
            {
                return false;
            }

            p = starP + 1;
            n = ++starN;
        }

        while (p < pattern.Length && pattern[p] == '*')
        {
            p++;
        }

        return p == pattern.Length;
    }

    // Matches one pattern element at p against c; on success advances p past the element.
    private static bool MatchOne(ReadOnlySpan<char> pattern, ref int p, char c)
    {
        switch (pattern[p])
        {
            case '?':
                p++;
                return true;
            case '[':
                int close = FindClassEnd(pattern, p);
                if (close < 0)
                {
                    goto default; // An unterminated '[' is an ordinary character, as in glob(3).
                }

                bool matched = MatchClass(pattern[(p + 1)..close], c);
                if (matched)
                {
                    p = close + 1;
                }

                return matched;
            case '\\' when p + 1 < pattern.Length:
                if (pattern[p + 1] == c)
                {
                    p += 2;
                    return true;
                }

                return false;
            default:
                if (pattern[p] == c)
                {
                    p++;
                    return true;
                }

                return false;
        }
    }

    private static int FindClassEnd(ReadOnlySpan<char> pattern, int open)
    {
        int i = open + 1;
        if (i < pattern.Length && (pattern[i] == '!' || pattern[i] == '^'))
        {
            i++;
        }

        if (i < pattern.Length && pattern[i] == ']')
        {
            i++; // A leading ']' is a member of the class.
        }

        for (; i < pattern.Length; i++)
        {
            if (pattern[i] == ']')
            {
                return i;
            }
        }

        return -1;
    }

    private static bool MatchClass(ReadOnlySpan<char> body, char c)
    {
        bool negate = body.Length > 0 && (body[0] == '!' || body[0] == '^');
        if (negate)
        {
            body = body[1..];
        }

        bool found = false;
        for (int i = 0; i < body.Length; i++)
        {
            if (i + 2 < body.Length && body[i + 1] == '-')
            {
                found |= c >= body[i] && c <= body[i + 2];
                i += 2;
            }
            else
            {
                found |= c == body[i];
            }
        }

        return found != negate;
    }
}
