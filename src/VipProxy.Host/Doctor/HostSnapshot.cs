using VipProxy.Config.Binding;

namespace VipProxy.Host.Doctor;

/// <summary>
/// Everything <c>vipproxy doctor</c> knows about this host, gathered by <see cref="HostProbe"/> and judged by
/// <see cref="DoctorAnalysis"/>: a plain record so the judgement can be tested with any host one can describe.
/// </summary>
public sealed record HostSnapshot
{
    /// <summary>CapEff of /proc/self/status.</summary>
    public ulong EffectiveCapabilities { get; init; }

    /// <summary>Every network interface of this namespace.</summary>
    public IReadOnlyList<HostLink> Links { get; init; } = [];

    /// <summary>/proc/sys/net/ipv4/conf values as "IF/NAME" (with "all/NAME"), e.g. "eth0/rp_filter" → 1.</summary>
    public IReadOnlyDictionary<string, int> Sysctls { get; init; } = new Dictionary<string, int>();

    /// <summary><c>nft -j list ruleset</c>.</summary>
    public ToolOutput Nftables { get; init; } = ToolOutput.NotInstalled;

    /// <summary><c>nft -a list ruleset</c>: the rules as the operator wrote them, with their handles.</summary>
    public ToolOutput NftablesListing { get; init; } = ToolOutput.NotInstalled;

    /// <summary><c>iptables-save</c>.</summary>
    public ToolOutput Iptables { get; init; } = ToolOutput.NotInstalled;

    /// <summary>What was heard on each VRRP interface; empty when listening was skipped.</summary>
    public IReadOnlyList<VrrpCapture> Captures { get; init; } = [];
}

/// <summary>One interface: its flags from /sys/class/net and its IPv4 addresses.</summary>
/// <param name="AdminUp">IFF_UP: <c>ip link set IF up</c> was done.</param>
/// <param name="Carrier">The link has carrier (a cable, the other end of a veth, a bridge port up).</param>
/// <param name="Multicast">IFF_MULTICAST: the interface can send and receive 224.0.0.18.</param>
public sealed record HostLink(string Name, bool AdminUp, bool Carrier, bool Multicast, IReadOnlyList<HostInterface> Addresses);

/// <summary>What an external command printed; <see cref="Found"/> false when it is not installed.</summary>
public sealed record ToolOutput(bool Found, int ExitCode, string Output, string Error)
{
    public static ToolOutput NotInstalled { get; } = new(false, -1, "", "");

    public bool Succeeded => Found && ExitCode == 0;
}

/// <summary>The raw datagrams (from the IPv4 header) received on one interface's VRRP socket while listening.</summary>
/// <param name="Error">Why the interface could not be listened on (no CAP_NET_RAW, no such interface); null when it was.</param>
public sealed record VrrpCapture(string Interface, TimeSpan Duration, IReadOnlyList<byte[]> Datagrams, string? Error = null);
