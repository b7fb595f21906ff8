namespace VipProxy.Config.Binding;

/// <summary>Finds the keyword an operator most likely meant ("did you mean …?").</summary>
public static class KeywordSuggester
{
    /// <summary>
    /// Suggests a keyword for <paramref name="word"/>. First the space-for-underscore slip
    /// (<c>persistence timeout 50</c> → <c>persistence_timeout</c>), then the nearest keyword by edit distance.
    /// </summary>
    public static string? Suggest(string word, string? nextWord, IEnumerable<string> keywords)
    {
        var known = keywords as IReadOnlyCollection<string> ?? [.. keywords];
        if (nextWord is not null)
        {
            string joined = $"{word}_{nextWord}";
            string? match = known.FirstOrDefault(k => string.Equals(k, joined, StringComparison.OrdinalIgnoreCase));
            if (match is not null)
            {
                return match;
            }
        }

        string? caseOnly = known.FirstOrDefault(k => string.Equals(k, word, StringComparison.OrdinalIgnoreCase));
        if (caseOnly is not null)
        {
            return caseOnly;
        }

        int limit = word.Length <= 4 ? 1 : word.Length <= 8 ? 2 : 3;
        string? best = null;
        int bestDistance = int.MaxValue;
        foreach (string keyword in known)
        {
            int distance = Distance(word.ToLowerInvariant(), keyword.ToLowerInvariant());
            if (distance < bestDistance)
            {
                best = keyword;
                bestDistance = distance;
            }
        }

        return bestDistance <= limit ? best : null;
    }

    /// <summary>Optimal string alignment distance: insertions, deletions, substitutions and adjacent swaps.</summary>
    public static int Distance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (int i = 0; i <= a.Length; i++)
        {
            d[i, 0] = i;
        }

        for (int j = 0; j <= b.Length; j++)
        {
            d[0, j] = j;
        }

        for (int i = 1; i <= a.Length; i++)
        {
            for (int j = 1; j <= b.Length; j++)
            {
                int cost = a[i - 1] == b[j - 1] ? 0 : 1;
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                {
                    d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
                }
            }
        }

        return d[a.Length, b.Length];
    }
}
