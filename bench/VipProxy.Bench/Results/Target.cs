namespace VipProxy.Bench.Results;

/// <summary>
/// One of issue 13's targets, checked against a run: either a ratio of medians VipProxy / baseline with a bound,
/// or a bound on VipProxy's own median.
/// </summary>
internal sealed record Target(string Description, string Workload, string Metric, string? Baseline, double Bound, bool AtLeast)
{
    public static IReadOnlyList<Target> All { get; } =
    [
        new("≥ 1.2× HAProxy (defaults) on wrk keep-alive req/s", "wrk-keepalive", "requests_per_second", "haproxy-mt", 1.2, true),
        new("≤ 0.8× HAProxy (defaults) proxy CPU per keep-alive request", "wrk-keepalive", "cpu_us_per_request", "haproxy-mt", 0.8, false),
        new("≤ 1.0× HAProxy (defaults) wrk keep-alive p99", "wrk-keepalive", "latency_p99_ms", "haproxy-mt", 1.0, false),
        new("≥ 1.1× HAProxy (defaults) on wrk Connection: close (log on)", "wrk-close", "connections_per_second", "haproxy-mt", 1.1, true),
        new("≥ 1.15× HAProxy (defaults) on sysbench point_select QPS", "sysbench-point-select", "queries_per_second", "haproxy-mt", 1.15, true),
        new("≤ 1.0× HAProxy (defaults) sysbench point_select p95", "sysbench-point-select", "latency_p95_ms", "haproxy-mt", 1.0, false),
        new("≥ 1.3× HAProxy splice-auto on iperf3 1 stream", "iperf3-1", "gbit_per_second", "haproxy-splice", 1.3, true),
        new("≤ 0.6× HAProxy splice-auto CPU/GiB, iperf3 1 stream", "iperf3-1", "cpu_seconds_per_gib", "haproxy-splice", 0.6, false),
        new("≥ 1.3× HAProxy splice-auto on iperf3 8 streams", "iperf3-8", "gbit_per_second", "haproxy-splice", 1.3, true),
        new("≤ 0.6× HAProxy splice-auto CPU/GiB, iperf3 8 streams", "iperf3-8", "cpu_seconds_per_gib", "haproxy-splice", 0.6, false),
        new("≤ 4 KiB RSS per idle proxied connection", "idle-connections", "rss_kib_per_connection", null, 4.0, false),
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
