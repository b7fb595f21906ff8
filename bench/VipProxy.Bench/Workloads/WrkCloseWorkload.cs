using VipProxy.Bench.Contenders;
using VipProxy.Bench.Infrastructure;
using VipProxy.Bench.Results;

namespace VipProxy.Bench.Workloads;

/// <summary>
/// One request per connection (`Connection: close`): measures accept + backend connect + teardown, the cost a
/// connection-pool-less MySQL client (a CLI, a cron job, Navicat) puts on the proxy.
/// </summary>
internal sealed class WrkCloseWorkload() : WrkWorkload("wrk-close", "wrk Connection: close (new conns/s)")
{
    public override string Description =>
        $"wrk -t 2 -c {Connections} --latency -H 'Connection: close': every request opens a new connection, so " +
        "requests/s is new connections/s.";

    public override IReadOnlyList<MetricDefinition> Metrics { get; } =
    [
        new("connections_per_second", "conn/s", "conn/s", HigherIsBetter: true),
        new("latency_p99_ms", "p99 latency", "ms", HigherIsBetter: false),
        new("cpu_us_per_request", "proxy CPU/request", "µs", HigherIsBetter: false, ProxiesOnly: true),
    ];

    protected override IEnumerable<string> ExtraArguments => ["-H", "Connection: close"];

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

        measured.Values["connections_per_second"] = output.RequestsPerSecond;
        measured.Values["latency_p99_ms"] = output.P99Milliseconds;
        return measured;
    }
}
