namespace VipProxy.Forwarding.Scheduling;

/// <summary>
/// Builds a Maglev lookup table (Eisenbud et al., NSDI 2016) as a pure function of server names and weights.
/// </summary>
/// <remarks>
/// Each server walks its own permutation of the slots, <c>offset, offset+skip, offset+2·skip, … (mod M)</c>, with
/// offset and skip taken from two stable hashes of its name; M is prime and <c>1 ≤ skip &lt; M</c>, so every
/// permutation visits every slot. Servers take turns claiming their next free slot until the table is full.
/// Weights follow katran's MaglevV2: in each round a server earns its weight and claims a slot whenever its
/// running total reaches the largest weight, so a server claims slots in proportion to its weight. Because each
/// server's preference order depends only on its own name, removing one server mostly reassigns only its slots.
/// </remarks>
public static class MaglevTable
{
    /// <summary>Table size: the prime LVS's <c>ip_vs_mh</c> and katran use by default.</summary>
    public const int DefaultSize = 65537;

    /// <summary>Marks an empty table (no server with weight above 0).</summary>
    public const int NoServer = -1;

    private const ulong OffsetSeed = 0x6D61_676C_6576_3031; // "maglev01"
    private const ulong SkipSeed = 0x6D61_676C_6576_3032; // "maglev02"

    /// <summary>
    /// Returns <paramref name="size"/> slots, each holding the index (into <paramref name="names"/>) of the server
    /// that owns it, or all <see cref="NoServer"/> when no weight is above 0. Servers with weight 0 own no slot.
    /// </summary>
    /// <param name="names">Unique, stable server names (hashed with <see cref="StableHash"/>).</param>
    /// <param name="weights">Weights, one per name.</param>
    /// <param name="size">A prime larger than the number of weighted servers.</param>
    public static int[] Build(IReadOnlyList<string> names, IReadOnlyList<int> weights, int size = DefaultSize)
    {
        ArgumentNullException.ThrowIfNull(names);
        ArgumentNullException.ThrowIfNull(weights);
        if (names.Count != weights.Count)
        {
            throw new ArgumentException("Each name needs exactly one weight.", nameof(weights));
        }

        if (!IsPrime(size))
        {
            throw new ArgumentOutOfRangeException(nameof(size), size, "The Maglev table size must be prime.");
        }

        int count = names.Count;
        var offsets = new int[count];
        var skips = new int[count];
        var positions = new int[count];
        var earned = new long[count];
        int maxWeight = 0;
        int weighted = 0;
        for (int i = 0; i < count; i++)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(weights[i], nameof(weights));
            maxWeight = Math.Max(maxWeight, weights[i]);
            weighted += weights[i] > 0 ? 1 : 0;
            offsets[i] = (int)(StableHash.Hash64(names[i], OffsetSeed) % (ulong)size);
            skips[i] = (int)(StableHash.Hash64(names[i], SkipSeed) % (ulong)(size - 1)) + 1;
            positions[i] = offsets[i];
        }

        var table = new int[size];
        Array.Fill(table, NoServer);
        if (weighted == 0)
        {
            return table;
        }

        if (weighted >= size)
        {
            throw new ArgumentException($"{weighted} weighted servers need a table larger than {size}.", nameof(names));
        }

        int filled = 0;
        while (true)
        {
            for (int i = 0; i < count; i++)
            {
                if (weights[i] == 0)
                {
                    continue;
                }

                earned[i] += weights[i];
                if (earned[i] < maxWeight)
                {
                    continue;
                }

                earned[i] -= maxWeight;
                int slot = positions[i];
                while (table[slot] != NoServer)
                {
                    slot = Advance(slot, skips[i], size);
                }

                table[slot] = i;
                positions[i] = Advance(slot, skips[i], size);
                if (++filled == size)
                {
                    return table;
                }
            }
        }
    }

    private static int Advance(int slot, int skip, int size)
    {
        int next = slot + skip;
        return next >= size ? next - size : next;
    }

    private static bool IsPrime(int value)
    {
        if (value < 2)
        {
            return false;
        }

        for (int divisor = 2; (long)divisor * divisor <= value; divisor++)
        {
            if (value % divisor == 0)
            {
                return false;
            }
        }

        return true;
    }
}
