using System.Text;

namespace VipProxy.Forwarding.Scheduling;

/// <summary>
/// A 64-bit hash that is identical in every process and on every machine.
/// </summary>
/// <remarks>
/// <see cref="string.GetHashCode()"/> is randomised per process, so two load balancer nodes (or one node before and
/// after a restart) would build different Maglev tables and move clients on failover. This is FNV-1a (64-bit) over
/// the bytes, with the seed folded into the offset basis, followed by the MurmurHash3 <c>fmix64</c> finaliser: FNV
/// alone mixes the high input bytes poorly into the low output bits, and the tables index by
/// <c>hash % size</c>.
/// </remarks>
public static class StableHash
{
    private const ulong FnvOffsetBasis = 14695981039346656037UL;
    private const ulong FnvPrime = 1099511628211UL;

    /// <summary>Hashes raw bytes.</summary>
    public static ulong Hash64(ReadOnlySpan<byte> data, ulong seed)
    {
        ulong hash = FnvOffsetBasis ^ Finalize(seed);
        foreach (byte b in data)
        {
            hash ^= b;
            hash *= FnvPrime;
        }

        return Finalize(hash);
    }

    /// <summary>Hashes the UTF-8 bytes of a string (not the hot path: used when building tables).</summary>
    public static ulong Hash64(string text, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(text);
        return Hash64(Encoding.UTF8.GetBytes(text), seed);
    }

    /// <summary>MurmurHash3's 64-bit finaliser: every input bit affects every output bit.</summary>
    internal static ulong Finalize(ulong k)
    {
        k ^= k >> 33;
        k *= 0xff51afd7ed558ccdUL;
        k ^= k >> 33;
        k *= 0xc4ceb9fe1a85ec53UL;
        k ^= k >> 33;
        return k;
    }
}
