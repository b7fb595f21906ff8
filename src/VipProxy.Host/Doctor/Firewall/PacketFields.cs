using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace VipProxy.Host.Doctor.Firewall;

/// <summary>The value comparisons both rule languages need: protocol names, addresses with prefixes, interface patterns.</summary>
internal static class PacketFields
{
    // The names nft and iptables print for the protocols a VipProxy node sends and receives (/etc/protocols).
    private static readonly Dictionary<string, int> ProtocolNumbers = new(StringComparer.OrdinalIgnoreCase)
    {
        ["icmp"] = 1,
        ["igmp"] = 2,
        ["tcp"] = 6,
        ["udp"] = 17,
        ["gre"] = 47,
        ["esp"] = 50,
        ["ah"] = 51,
        ["ipv6-icmp"] = 58,
        ["icmpv6"] = 58,
        ["vrrp"] = 112,
        ["carp"] = 112,
        ["sctp"] = 132,
        ["udplite"] = 136,
    };

    /// <summary>Whether <paramref name="value"/> (a number or a name) is <paramref name="protocol"/>; "all" matches every protocol.</summary>
    public static bool IsProtocol(string value, int protocol)
    {
        if (value.Equals("all", StringComparison.OrdinalIgnoreCase) || value == "0")
        {
            return true;
        }

        return int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int number)
            ? number == protocol
            : ProtocolNumbers.TryGetValue(value, out int named) && named == protocol;
    }

    /// <summary>"198.18.0.0/15", "198.18.0.1", "198.18.0.0/255.254.0.0": does it contain <paramref name="address"/>? Null when not IPv4.</summary>
    public static bool? ContainsAddress(string network, IPAddress address)
    {
        string[] parts = network.Split('/', 2);
        if (!IPAddress.TryParse(parts[0], out IPAddress? baseAddress) || baseAddress.AddressFamily != AddressFamily.InterNetwork)
        {
            return null;
        }

        int prefix = 32;
        if (parts.Length == 2)
        {
            if (IPAddress.TryParse(parts[1], out IPAddress? mask) && parts[1].Contains('.', StringComparison.Ordinal))
            {
                prefix = System.Numerics.BitOperations.PopCount(ToUInt32(mask));
            }
            else if (!int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out prefix) || prefix > 32)
            {
                return null;
            }
        }

        return InPrefix(baseAddress, prefix, address);
    }

    public static bool InPrefix(IPAddress network, int prefix, IPAddress address)
    {
        if (address.AddressFamily != AddressFamily.InterNetwork)
        {
            return false;
        }

        uint mask = prefix == 0 ? 0 : uint.MaxValue << (32 - prefix);
        return (ToUInt32(network) & mask) == (ToUInt32(address) & mask);
    }

    public static bool InRange(IPAddress first, IPAddress last, IPAddress address) =>
        address.AddressFamily == AddressFamily.InterNetwork && ToUInt32(first) <= ToUInt32(address) && ToUInt32(address) <= ToUInt32(last);

    /// <summary>An interface name against a pattern: exact, or a prefix ending in "*" (nft) or "+" (iptables).</summary>
    public static bool InterfaceMatches(string pattern, string? name)
    {
        name ??= "";
        return pattern.Length > 0 && pattern[^1] is '*' or '+'
            ? name.StartsWith(pattern[..^1], StringComparison.Ordinal)
            : pattern == name;
    }

    /// <summary>An iifname (<paramref name="input"/>) or oifname match: the side the packet does not have is the empty name.</summary>
    public static Tri Interface(string pattern, FirewallPacket packet, bool input)
    {
        bool ours = input == (packet.Direction == PacketDirection.Received);
        if (!ours)
        {
            return TriLogic.Of(InterfaceMatches(pattern, ""));
        }

        return packet.Interface is null ? Tri.Maybe : TriLogic.Of(InterfaceMatches(pattern, packet.Interface));
    }

    public static uint ToUInt32(IPAddress address) => BinaryPrimitives.ReadUInt32BigEndian(address.GetAddressBytes());
}
