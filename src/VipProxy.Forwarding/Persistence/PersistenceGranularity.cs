using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using VipProxy.Forwarding.Scheduling;

namespace VipProxy.Forwarding.Persistence;

/// <summary>
/// Which client addresses share one persistence entry: keepalived's <c>persistence_granularity</c>.
/// </summary>
/// <remarks>
/// keepalived takes an IPv4 netmask (default 255.255.255.255, one entry per client) and, for IPv6 virtual
/// servers, a prefix length (default 128). Both are kept as prefix lengths so one value serves dual-stack
/// listeners.
/// </remarks>
public readonly record struct PersistenceGranularity
{
    /// <summary>Creates a granularity from prefix lengths.</summary>
    public PersistenceGranularity(int ipv4PrefixLength, int ipv6PrefixLength = 128)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(ipv4PrefixLength);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(ipv4PrefixLength, 32);
        ArgumentOutOfRangeException.ThrowIfNegative(ipv6PrefixLength);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(ipv6PrefixLength, 128);
        IPv4PrefixLength = ipv4PrefixLength;
        IPv6PrefixLength = ipv6PrefixLength;
    }

    /// <summary>One entry per client address (/32, /128): keepalived's default.</summary>
    public static PersistenceGranularity PerClient { get; } = new(32, 128);

    /// <summary>Bits of an IPv4 client address that select the entry.</summary>
    public int IPv4PrefixLength { get; }

    /// <summary>Bits of an IPv6 client address that select the entry.</summary>
    public int IPv6PrefixLength { get; }

    /// <summary>Parses an IPv4 netmask such as 255.255.255.0; it must be contiguous ones then zeros.</summary>
    public static PersistenceGranularity FromNetmask(IPAddress netmask, int ipv6PrefixLength = 128)
    {
        ArgumentNullException.ThrowIfNull(netmask);
        if (netmask.AddressFamily != AddressFamily.InterNetwork)
        {
            throw new ArgumentException("persistence_granularity netmask must be IPv4.", nameof(netmask));
        }

        Span<byte> bytes = stackalloc byte[4];
        netmask.TryWriteBytes(bytes, out _);
        uint mask = BinaryPrimitives.ReadUInt32BigEndian(bytes);
        int prefix = System.Numerics.BitOperations.LeadingZeroCount(~mask);
        if (prefix < 32 && (mask << prefix) != 0)
        {
            throw new ArgumentException($"Netmask {netmask} is not contiguous.", nameof(netmask));
        }

        return new PersistenceGranularity(prefix, ipv6PrefixLength);
    }

    /// <summary>The key of the entry a client belongs to.</summary>
    public ClientAddressKey KeyOf(IPAddress client) =>
        ClientAddressKey.FromAddress(client).Mask(IPv4PrefixLength, IPv6PrefixLength);

    /// <inheritdoc />
    public override string ToString() => $"/{IPv4PrefixLength} (IPv6 /{IPv6PrefixLength})";
}
