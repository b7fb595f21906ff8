using VipProxy.HealthChecks.Probes;

namespace VipProxy.HealthChecks.Monitoring;

/// <summary>The state of one checker of a real server.</summary>
/// <param name="Description">What it probes, e.g. <c>MYSQL_CHECK 10.0.0.2:3306</c>.</param>
/// <param name="IsUp">The checker's state after hysteresis.</param>
/// <param name="Health">The rise/fall counter.</param>
/// <param name="ConsecutiveSuccesses">Probes passed in a row (0 after a failure).</param>
/// <param name="ConsecutiveFailures">Probes failed in a row (0 after a success).</param>
/// <param name="LastResult">The last probe's result; null before the first probe.</param>
/// <param name="LastCheckTime">When the last probe finished.</param>
public sealed record CheckerStatus(
    string Description,
    bool IsUp,
    int Health,
    int ConsecutiveSuccesses,
    int ConsecutiveFailures,
    ProbeResult? LastResult,
    DateTimeOffset? LastCheckTime);
