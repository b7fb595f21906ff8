using VipProxy.Forwarding.Scheduling;
using ConfigRealServer = VipProxy.Config.Model.RealServer;
using ForwardingServer = VipProxy.Forwarding.Scheduling.RealServer;

namespace VipProxy.Forwarding.Runtime;

/// <summary>
/// Control-plane record of one real server of a virtual server: its configuration, health, and the counters that
/// outlive every scheduler snapshot. Mutated only under the runtime's control lock.
/// </summary>
internal sealed class RealServerSlot(ConfigRealServer config, bool up)
{
    /// <summary>Identity within the virtual server: <c>ip:port</c>, as keepalived identifies real servers (and
    /// what Maglev hashes, so both nodes agree).</summary>
    public string Name { get; } = config.Endpoint.ToString();

    public ConfigRealServer Config { get; set; } = config;

    public bool Up { get; set; } = up;

    /// <summary>Removed by a reload; kept only while its connections drain.</summary>
    public bool Draining { get; set; }

    public ConnectionCounters Counters { get; } = new();

    /// <summary>The weight to schedule with, or null to leave the server out of the snapshot: down servers are
    /// removed, or kept at weight 0 with <c>inhibit_on_failure</c> (both stop new connections; existing ones
    /// continue either way).</summary>
    public int? EffectiveWeight => Draining ? null : Up ? Config.Weight : Config.InhibitOnFailure ? 0 : null;

    public ForwardingServer ToSnapshot(int weight) =>
        new(Name, Config.Endpoint, weight, Config.MaxConnections ?? 0, Counters);
}
