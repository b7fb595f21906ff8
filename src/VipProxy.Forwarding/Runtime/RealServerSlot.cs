using VipProxy.Config.Model;
using VipProxy.Forwarding.Scheduling;

namespace VipProxy.Forwarding.Runtime;

/// <summary>
/// Control-plane record of one real server of a virtual server: its configuration, health, and the counters that
/// outlive every scheduler snapshot. Mutated only under the runtime's control lock.
/// </summary>
internal sealed class RealServerSlot(RealServer config, bool up)
{
    /// <summary>Identity within the virtual server: <c>ip:port</c>, as keepalived identifies real servers (and
    /// what Maglev hashes, so both nodes agree).</summary>
    public string Name { get; } = config.Endpoint.ToString();

    public RealServer Config { get; set; } = config;

    public bool Up { get; set; } = up;

    /// <summary>The weight a <c>misc_dynamic</c> MISC_CHECK last set (exit code − 2), or null to use the configured
    /// one. A reload of the virtual server clears it, as its checkers restart from the configured weight.</summary>
    public int? DynamicWeight { get; set; }

    /// <summary>Removed by a reload; kept only while its connections drain.</summary>
    public bool Draining { get; set; }

    public ConnectionCounters Counters { get; } = new();

    /// <summary>The operator's override (drain, disable, weight). A reload keeps it.</summary>
    public RealServerOperatorState Operator { get; set; } = RealServerOperatorState.None;

    /// <summary>TimeProvider timestamp at which a failed forwarder connect marked this server suspect, or null. A
    /// suspect server is left out of new picks (unless every live server is suspect) until the health checker
    /// reports it up or the hold-down ends.</summary>
    public long? SuspectSince { get; set; }

    /// <summary>The hold-down that applies to the current suspicion.</summary>
    public TimeSpan SuspectHoldDown { get; set; }

    /// <summary>True when the last published snapshot left this server out because it is suspect.</summary>
    public bool HeldDown { get; set; }

    /// <summary>True when the last published snapshot left this <c>backup</c> server out because a non-backup server
    /// is live.</summary>
    public bool StandingBy { get; set; }

    /// <summary>Ends the suspicion (health report, hold-down expiry, or down).</summary>
    public void ClearSuspect()
    {
        SuspectSince = null;
        HeldDown = false;
    }

    /// <summary>The weight to schedule with, or null to leave the server out of the snapshot (see
    /// <see cref="RealServerWeightRules.Effective"/>): down, drained or disabled servers are removed, or kept at weight 0
    /// with <c>inhibit_on_failure</c> (all stop new connections; existing ones continue either way).</summary>
    public int? EffectiveWeight =>
        RealServerWeightRules.Effective(Draining, Up, Config.InhibitOnFailure, Config.Weight, DynamicWeight, Operator);

    /// <summary>The weight the scheduler uses now: <see cref="EffectiveWeight"/>, or null while held down or standing
    /// by as a backup.</summary>
    public int? ScheduledWeight => HeldDown || StandingBy ? null : EffectiveWeight;

    public RealServerSnapshot ToSnapshot(int weight) =>
        new(Name, Config.Endpoint, weight, Config.MaxConnections ?? 0, Counters, Config.SendProxy);
}
