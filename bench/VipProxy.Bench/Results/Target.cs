namespace VipProxy.Bench.Results;

/// <summary>
/// One of issue 6's targets, checked against a run: either a ratio of medians VipProxy / baseline with a bound,
/// or a bound on VipProxy's own median.
/// </summary>
internal sealed record Target(string Description, string Workload, string Metric, string? Baseline, double Bound, bool AtLeast)
{
    public static IReadOnlyList<Target> All { get; } =
    [
        new("≥ 1.0× HAProxy splice-auto on wrk keep-alive req/s", "wrk-keepalive", "requests_per_second", "haproxy-splice", 1.0, true),
        new("≥ 1.0× HAProxy splice-auto on iperf3 1 stream", "iperf3-1", "gbit_per_second", "haproxy-splice", 1.0, true),
        new("≥ 1.0× HAProxy splice-auto on iperf3 8 streams", "iperf3-8", "gbit_per_second", "haproxy-splice", 1.0, true),
        new("≥ 1.0× HAProxy on wrk Connection: close", "wrk-close", "connections_per_second", "haproxy", 1.0, true),
        new("≥ 1.1× HAProxy on sysbench point_select QPS", "sysbench-point-select", "queries_per_second", "haproxy", 1.1, true),
        new("≤ 8 KiB RSS per idle proxied connection", "idle-connections", "rss_kib_per_connection", null, 8.0, false),
        new("failover outage ≤ keepalived + HAProxy", "failover", "outage_seconds", "haproxy", 1.0, false),
    ];

    /// <summary>The measured figure (a ratio, or VipProxy's own median), or null when the run lacks it.</summary>
    public double? Measure(BenchResults results)
    {
        ArgumentNullException.ThrowIfNull(results);
        return Baseline is null
            ? results.Summarise(Workload, Metric, BenchResults.Subject)?.Median
            : results.Ratio(Workload, Metric, Baseline);
    }

    public bool? IsMet(BenchResults results) =>
        Measure(results) is { } value ? (AtLeast ? value >= Bound : value <= Bound) : null;
}
