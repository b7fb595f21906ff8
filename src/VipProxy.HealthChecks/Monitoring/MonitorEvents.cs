using VipProxy.HealthChecks.Decisions;
using VipProxy.HealthChecks.Probes;

namespace VipProxy.HealthChecks.Monitoring;

/// <summary>A real server went up or down.</summary>
/// <param name="status">Its status after the change.</param>
/// <param name="transition">WentUp or WentDown.</param>
/// <param name="checker">The checker whose result caused it.</param>
/// <param name="result">That result (its reason explains a down).</param>
public sealed class RealServerHealthChangedEventArgs(
    RealServerHealthStatus status, HealthTransition transition, string checker, ProbeResult result) : EventArgs
{
    public RealServerHealthStatus Status { get; } = status;

    public HealthTransition Transition { get; } = transition;

    public string Checker { get; } = checker;

    public ProbeResult Result { get; } = result;

    public override string ToString() => $"{Status.Endpoint} {Transition} by {Checker}: {Result}";
}

/// <summary>A <c>misc_dynamic</c> script changed a real server's weight.</summary>
public sealed class RealServerWeightChangedEventArgs(RealServerHealthStatus status, int previousWeight) : EventArgs
{
    public RealServerHealthStatus Status { get; } = status;

    public int PreviousWeight { get; } = previousWeight;
}

/// <summary>A virtual server gained or lost quorum. The VRRP side consumes it to move the VIP away from a node
/// whose service is down.</summary>
/// <param name="transition">QuorumUp or QuorumDown.</param>
/// <param name="liveWeight">The sum of the weights of the live real servers that decided it.</param>
public sealed class QuorumChangedEventArgs(QuorumTransition transition, long liveWeight) : EventArgs
{
    public QuorumTransition Transition { get; } = transition;

    public long LiveWeight { get; } = liveWeight;

    public bool HasQuorum => Transition == QuorumTransition.QuorumUp;
}
