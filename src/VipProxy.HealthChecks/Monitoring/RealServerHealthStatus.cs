using System.Net;
using VipProxy.HealthChecks.Probes;

namespace VipProxy.HealthChecks.Monitoring;

/// <summary>A snapshot of a real server's health, for the forwarder and for status output.</summary>
/// <param name="Endpoint">The real server.</param>
/// <param name="IsUp">Up only while every checker passes.</param>
/// <param name="Weight">Its current weight: the configured one, or the last one a <c>misc_dynamic</c> script set.</param>
/// <param name="LastResult">The most recent probe result of any of its checkers; null before the first.</param>
/// <param name="LastCheckTime">When that probe finished.</param>
/// <param name="LastTransitionTime">When it last went up or down; null if it never changed.</param>
/// <param name="Checkers">Each checker's state.</param>
public sealed record RealServerHealthStatus(
    IPEndPoint Endpoint,
    bool IsUp,
    int Weight,
    ProbeResult? LastResult,
    DateTimeOffset? LastCheckTime,
    DateTimeOffset? LastTransitionTime,
    IReadOnlyList<CheckerStatus> Checkers)
{
    /// <summary>The reason of the last result, or a note that nothing was probed yet.</summary>
    public string Reason => LastResult?.Reason ?? "not probed yet";
}
