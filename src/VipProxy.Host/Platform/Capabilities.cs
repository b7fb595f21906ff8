using System.Globalization;

namespace VipProxy.Host.Platform;

/// <summary>
/// Reads the process's effective capabilities from /proc/self/status, so that start-up can say exactly which
/// right is missing instead of failing later with EPERM deep inside a socket call.
/// </summary>
public static class Capabilities
{
    public const int NetBindService = 10;
    public const int NetAdmin = 12;
    public const int NetRaw = 13;

    public static ulong ReadEffective()
    {
        foreach (string line in File.ReadLines("/proc/self/status"))
        {
            if (line.StartsWith("CapEff:", StringComparison.Ordinal))
            {
                return ulong.Parse(line.AsSpan(7).Trim(), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            }
        }

        return 0;
    }

    public static bool Has(ulong effective, int capability) => (effective & (1UL << capability)) != 0;

    /// <summary>What the file needs and the process lacks, as "CAP_NET_ADMIN (to add VIPs)" phrases.</summary>
    public static IReadOnlyList<string> Missing(ulong effective, bool needsVrrp, bool needsLowPorts, bool needsTransparent = false)
    {
        var missing = new List<string>();
        if ((needsVrrp || needsTransparent) && !Has(effective, NetAdmin))
        {
            missing.Add((needsVrrp, needsTransparent) switch
            {
                (true, true) => "CAP_NET_ADMIN (to add and remove VIPs and watch links, and for transparent virtual servers to connect from the client's address with IP_TRANSPARENT)",
                (true, false) => "CAP_NET_ADMIN (to add and remove VIPs and watch links)",
                _ => "CAP_NET_ADMIN (for transparent virtual servers to connect from the client's address with IP_TRANSPARENT)",
            });
        }

        if (needsVrrp && !Has(effective, NetRaw))
        {
            missing.Add("CAP_NET_RAW (to send and receive VRRP adverts and gratuitous ARP)");
        }

        if (needsLowPorts && !Has(effective, NetBindService))
        {
            missing.Add("CAP_NET_BIND_SERVICE (to listen on ports below 1024)");
        }

        return missing;
    }
}
