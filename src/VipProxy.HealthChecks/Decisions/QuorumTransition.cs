namespace VipProxy.HealthChecks.Decisions;

/// <summary>What a change of live weight did to a virtual server's quorum.</summary>
public enum QuorumTransition
{
    /// <summary>No change.</summary>
    None,

    /// <summary>Quorum gained (keepalived runs <c>quorum_up</c>).</summary>
    QuorumUp,

    /// <summary>Quorum lost (keepalived runs <c>quorum_down</c>).</summary>
    QuorumDown,
}
