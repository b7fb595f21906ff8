namespace VipProxy.Forwarding.Scheduling;

/// <summary>
/// Builds one cycle of smooth weighted round robin (the algorithm of nginx's upstream module) as a pure function.
/// </summary>
/// <remarks>
/// Each step adds every server's weight to its running score, picks the highest score (first on ties) and
/// subtracts the total weight from it. Over one cycle each server appears exactly weight/gcd times and its turns
/// are spread out: weights 5:1:1 give <c>A A B A C A A</c>, where LVS's interleaved wrr gives <c>A A A A A B C</c>.
/// </remarks>
public static class SmoothWeightedSequence
{
    /// <summary>Longest cycle built by default (entries are server indices: 256 KiB).</summary>
    public const int DefaultMaxLength = 1 << 16;

    /// <summary>
    /// Returns one cycle of server indices. Weights are first divided by their greatest common divisor; if the
    /// cycle would still be longer than <paramref name="maxLength"/>, the weights are scaled down proportionally
    /// (each non-zero weight keeps at least 1), so ratios are exact up to that length and approximate beyond it.
    /// Servers with weight 0 never appear. Empty when no weight is above 0.
    /// </summary>
    public static int[] Build(ReadOnlySpan<int> weights, int maxLength = DefaultMaxLength)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLength, 1);
        int[] reduced = ReduceWeights(weights, maxLength);
        long total = 0;
        foreach (int weight in reduced)
        {
            total += weight;
        }

        if (total == 0)
        {
            return [];
        }

        var sequence = new int[total];
        var scores = new long[reduced.Length];
        for (int step = 0; step < sequence.Length; step++)
        {
            int best = -1;
            for (int i = 0; i < reduced.Length; i++)
            {
                if (reduced[i] == 0)
                {
                    continue;
                }

                scores[i] += reduced[i];
                if (best < 0 || scores[i] > scores[best])
                {
                    best = i;
                }
            }

            scores[best] -= total;
            sequence[step] = best;
        }

        return sequence;
    }

    private static int[] ReduceWeights(ReadOnlySpan<int> weights, int maxLength)
    {
        int divisor = 0;
        long total = 0;
        int nonZero = 0;
        foreach (int weight in weights)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(weight, nameof(weights));
            divisor = GreatestCommonDivisor(divisor, weight);
            total += weight;
            nonZero += weight > 0 ? 1 : 0;
        }

        var reduced = new int[weights.Length];
        if (divisor == 0)
        {
            return reduced;
        }

        total /= divisor;
        if (nonZero > maxLength)
        {
            throw new ArgumentException($"{nonZero} weighted servers do not fit a cycle of {maxLength}.", nameof(weights));
        }

        // Scale only when the exact cycle is too long; leave room for the "at least 1" rounding.
        long budget = maxLength - nonZero;
        for (int i = 0; i < weights.Length; i++)
        {
            long weight = weights[i] / divisor;
            reduced[i] = total <= maxLength || weight == 0
                ? (int)weight
                : (int)Math.Max(1, weight * budget / total);
        }

        return reduced;
    }

    internal static int GreatestCommonDivisor(int a, int b)
    {
        while (b != 0)
        {
            (a, b) = (b, a % b);
        }

        return a;
    }
}
