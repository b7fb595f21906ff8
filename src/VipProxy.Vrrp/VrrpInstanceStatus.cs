namespace VipProxy.Vrrp;

/// <summary>One instance as <c>vipproxy status</c> shows it (keepalived's state dump and vrrp_stats).</summary>
/// <param name="State">keepalived's words: MASTER, BACKUP, FAULT, INIT (stopped or not started), ERROR (could not start).</param>
/// <param name="EffectivePriority">Configured priority adjusted by tracking; what our adverts carry.</param>
/// <param name="MasterAddress">Us when master; the current master's address when backup; null when unknown.</param>
/// <param name="VipsHeld">VIPs this node has added and not yet removed.</param>
/// <param name="DropCounters">Received datagrams dropped, by reason; "socket.*" entries count the interface socket's
/// undecodable datagrams and adverts of VRIDs no instance there runs.</param>
public sealed record VrrpInstanceStatus(
    string Name,
    string Interface,
    int VirtualRouterId,
    int Version,
    string State,
    int ConfiguredPriority,
    int EffectivePriority,
    string? MasterAddress,
    IReadOnlyList<string> VipsHeld,
    long Transitions,
    long AdvertsSent,
    long AdvertsReceived,
    IReadOnlyDictionary<string, long> DropCounters)
{
    /// <summary>True while the operator has demoted the instance (<c>vipproxy vrrp demote</c>): it stays BACKUP.</summary>
    public bool Demoted { get; init; }
}
