using System.Net;

namespace VipProxy.Host.Doctor.Firewall;

/// <summary>Whether a rule's condition holds for a packet; <see cref="Maybe"/> when it depends on what the doctor cannot know.</summary>
internal enum Tri
{
    No,
    Yes,
    Maybe,
}

internal static class TriLogic
{
    public static Tri And(Tri left, Tri right) => (left, right) switch
    {
        (Tri.No, _) or (_, Tri.No) => Tri.No,
        (Tri.Yes, Tri.Yes) => Tri.Yes,
        _ => Tri.Maybe,
    };

    public static Tri Not(Tri value) => value switch
    {
        Tri.Yes => Tri.No,
        Tri.No => Tri.Yes,
        _ => Tri.Maybe,
    };

    public static Tri Of(bool value) => value ? Tri.Yes : Tri.No;
}

/// <summary>Which side of the host a packet is on: received (prerouting, input) or sent (output, postrouting).</summary>
internal enum PacketDirection
{
    Received,
    Sent,
}

/// <summary>
/// A packet the node must be able to receive or send, run through the host's rules: a VRRP advert from a peer, our own
/// advert, a client's TCP SYN to a virtual server. Null fields are unknown (any client's address).
/// </summary>
/// <param name="Description">For the finding: "VRRP adverts from peers on eth0 (to 224.0.0.18)".</param>
/// <param name="Interface">The input interface when received, the output interface when sent; null when unknown.</param>
/// <param name="Protocol">The IP protocol number: 112 (VRRP) or 6 (TCP).</param>
/// <param name="DestinationPort">TCP only.</param>
internal sealed record FirewallPacket(
    string Description,
    PacketDirection Direction,
    string? Interface,
    int Protocol,
    IPAddress? Source,
    IPAddress Destination,
    int? DestinationPort,
    bool Multicast)
{
    public const int Vrrp = 112;
    public const int Tcp = 6;
}

internal enum RuleVerdict
{
    /// <summary>No verdict: counter, log, mark; evaluation goes on.</summary>
    None,
    Accept,

    /// <summary>drop or reject: both stop the packet.</summary>
    Drop,
    Jump,
    Goto,
    Return,
}

/// <summary>One rule, from nftables or iptables, with its condition compiled against a <see cref="FirewallPacket"/>.</summary>
/// <param name="Location">"table inet filter, chain input, handle 4".</param>
/// <param name="Text">The rule as the tool prints it.</param>
/// <param name="Target">The chain a jump or goto goes to.</param>
internal sealed record FirewallRule(string Location, string Text, Func<FirewallPacket, Tri> Matches, RuleVerdict Verdict, string? Target = null);

/// <summary>A chain; base chains are hooked into the packet path and have a policy.</summary>
/// <param name="Direction">For base chains, which packets traverse it; null for chains reached only by jumps.</param>
internal sealed record FirewallChain(string Table, string Name, string Location, PacketDirection? Direction, bool PolicyDrops, IReadOnlyList<FirewallRule> Rules);

/// <summary>All chains of one tool's ruleset, keyed by "TABLE/CHAIN" so jumps resolve within their table.</summary>
internal sealed record FirewallRuleset(string Tool, IReadOnlyList<FirewallChain> Chains)
{
    public FirewallChain? Find(string table, string chain) =>
        Chains.FirstOrDefault(c => c.Table == table && c.Name == chain);
}

/// <summary>A rule or policy that stops a packet.</summary>
/// <param name="Certain">False when a condition before or in the rule depends on what the doctor cannot know.</param>
/// <param name="Table">The table as the tool names it in commands: "inet filter" (nft), "filter" (iptables).</param>
/// <param name="Chain">The chain of the rule or policy, where an accept rule must go first.</param>
internal sealed record FirewallBlock(string Tool, string Location, string Text, bool Certain, FirewallPacket Packet, string Table, string Chain);
