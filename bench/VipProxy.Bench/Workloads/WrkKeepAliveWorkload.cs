using VipProxy.Bench.Contenders;
using VipProxy.Bench.Infrastructure;
using VipProxy.Bench.Results;

namespace VipProxy.Bench.Workloads;

/// <summary>Keep-alive request/response: what a proxy adds per request on established connections.</summary>
internal sealed class WrkKeepAliveWorkload() : WrkWorkload("wrk-keepalive", "wrk keep-alive (HTTP, 50 conns)")
{
    public override string Description =>
        $"wrk -t 2 -c {Connections} --latency against nginx's small static page over keep-alive connections; " +
        "requests/s and wrk's latency percentiles.";

    public override IReadOnlyList<MetricDefinition> Metrics { get; } =
    [
        new("requests_per_second", "req/s", "req/s", HigherIsBetter: true),
        new("latency_p50_ms", "p50 latency", "ms", HigherIsBetter: false),
        new("latency_p99_ms", "p99 latency", "ms", HigherIsBetter: false),
        new("cpu_us_per_request", "proxy CPU/request", "µs", HigherIsBetter: false, ProxiesOnly: true),
    ];

    protected override IEnumerable<string> ExtraArguments => [];

    protected override async Task<MeasuredValues> MeasureAsync(RunningContender target, WorkloadContext context,
        CancellationToken cancellationToken)
    {
        var cpuBefore = target.Pid is { } pid ? ProcFs.CpuSeconds(pid) : 0;
        var output = await RunWrkAsync(target, context).WaitAsync(cancellationToken);
        var measured = new MeasuredValues();
        if (target.Pid is { } proxyPid && output.Requests > 0)
        {
            measured.Values["cpu_us_per_request"] = (ProcFs.CpuSeconds(proxyPid) - cpuBefore) * 1e6 / output.Requests;
        }

        measured.Values["requests_per_second"] = output.RequestsPerSecond;
        measured.Values["latency_p50_ms"] = output.P50Milliseconds;
        measured.Values["latency_p99_ms"] = output.P99Milliseconds;
        return measured;
    }
}
