using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace VipProxy.Forwarding.Scheduling;

/// <summary>
/// A client IP address as a 128-bit value: hashable and maskable without allocating.
/// </summary>
/// <remarks>
/// IPv4 addresses are stored in their IPv4-mapped IPv6 form (<c>::ffff:a.b.c.d</c>), so a client reaching a
/// dual-stack listener (which reports <c>::ffff:a.b.c.d</c>) and an IPv4 listener (which reports <c>a.b.c.d</c>)
/// gets the same key, hash and persistence entry.
/// </remarks>
public readonly record struct ClientAddressKey(ulong High, ulong Low)
{
    private const ulong IPv4MappedMarker = 0xFFFFUL << 32;

    /// <summary>True when the key holds an IPv4 address.</summary>
    public bool IsIPv4 => High == 0 && (Low & 0xFFFF_FFFF_0000_0000UL) == IPv4MappedMarker;

    /// <summary>Builds the key of an address.</summary>
    public static ClientAddressKey FromAddress(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        Span<byte> bytes = stackalloc byte[16];
        bytes.Clear();
        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            bytes[10] = 0xFF;
            bytes[11] = 0xFF;
            address.TryWriteBytes(bytes[12..], out _);
        }
        else
        {
            // IPv6 (including IPv4-mapped): 16 bytes, scope id is not part of the key.
            address.TryWriteBytes(bytes, out _);
        }

        return new ClientAddressKey(
            BinaryPrimitives.ReadUInt64BigEndian(bytes),
            BinaryPrimitives.ReadUInt64BigEndian(bytes[8..]));
    }

    /// <summary>Keeps the first <paramref name="ipv4PrefixLength"/> bits of an IPv4 address, or the first
    /// <paramref name="ipv6PrefixLength"/> bits of an IPv6 address, and zeroes the rest.</summary>
    public ClientAddressKey Mask(int ipv4PrefixLength, int ipv6PrefixLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(ipv4PrefixLength);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(ipv4PrefixLength, 32);
        ArgumentOutOfRangeException.ThrowIfNegative(ipv6PrefixLength);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(ipv6PrefixLength, 128);
        if (IsIPv4)
        {
            ulong hostBits = ipv4PrefixLength == 0 ? 0xFFFF_FFFFUL : (1UL << (32 - ipv4PrefixLength)) - 1;
            return new ClientAddressKey(High, Low & ~hostBits);
        }

        return new ClientAddressKey(High & PrefixMask(ipv6PrefixLength), Low & PrefixMask(ipv6PrefixLength - 64));
    }

    /// <summary>Stable hash of the address (see <see cref="StableHash"/>).</summary>
    public ulong Hash(ulong seed)
    {
        Span<byte> bytes = stackalloc byte[16];
        BinaryPrimitives.WriteUInt64BigEndian(bytes, High);
        BinaryPrimitives.WriteUInt64BigEndian(bytes[8..], Low);
        return StableHash.Hash64(bytes, seed);
    }

    /// <summary>The address this key holds.</summary>
    public IPAddress ToAddress()
    {
        Span<byte> bytes = stackalloc byte[16];
        BinaryPrimitives.WriteUInt64BigEndian(bytes, High);
        BinaryPrimitives.WriteUInt64BigEndian(bytes[8..], Low);
        return IsIPv4 ? new IPAddress(bytes[12..]) : new IPAddress(bytes);
    }

    /// <inheritdoc />
    public override string ToString() => ToAddress().ToString();

    private static ulong PrefixMask(int bits) => bits switch
    {
        <= 0 => 0,
        >= 64 => ulong.MaxValue,
        _ => ulong.MaxValue << (64 - bits),
    };
}
