using System.Diagnostics.Metrics;

namespace VipProxy.HealthChecks.Monitoring;

/// <summary>
/// What only the checkers see (meter "VipProxy.HealthChecks"): how long each probe takes. A database whose
/// login or COM_PING slows down is in trouble before it fails its check; this is the figure behind the
/// "check latency high" alert. Recorded once per probe.
/// </summary>
public static class HealthCheckMetrics
{
    public const string MeterName = "VipProxy.HealthChecks";

    private static readonly Meter Meter = new(MeterName);

    /// <summary>Seconds from the start of a probe to its verdict, by real server, checker kind and result.</summary>
    public static readonly Histogram<double> CheckDuration = Meter.CreateHistogram<double>(
        "vipproxy_check_duration_seconds", unit: "s", description: "Time a health check probe took, from start to verdict.");
}
