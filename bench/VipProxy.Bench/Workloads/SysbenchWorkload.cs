using System.Globalization;
using System.Text.RegularExpressions;
using VipProxy.Bench.Contenders;
using VipProxy.Bench.Infrastructure;
using VipProxy.Bench.Results;

namespace VipProxy.Bench.Workloads;

/// <summary>
/// MySQL traffic, the product's real job: sysbench against MariaDB through port 8066 (MyCat's port), 8 threads
/// on long-lived connections. Small queries make it latency-bound: every microsecond the proxy adds shows.
/// </summary>
internal abstract partial class SysbenchWorkload(string name, string title, string test) : ProxiedWorkload(name, title)
{
    private const int Threads = 8;

    public string Test { get; } = test;

    public override string Description =>
        $"sysbench {Test} --threads={Threads} on a {Backends.SysbenchTableSize:N0}-row table through port " +
        $"{ServicePorts.Mysql}; queries/s and sysbench's 95th percentile latency per event.";

    public override IReadOnlyList<MetricDefinition> Metrics { get; } =
    [
        new("queries_per_second", "QPS", "q/s", HigherIsBetter: true),
        new("latency_p95_ms", "p95 latency", "ms", HigherIsBetter: false),
    ];

    public override IReadOnlySet<Service> Services { get; } = new HashSet<Service> { Service.Mysql };

    protected override async Task<MeasuredValues> MeasureAsync(RunningContender target, WorkloadContext context,
        CancellationToken cancellationToken)
    {
        var result = await context.Topology.Client.RunAsync("sysbench",
            [Test, .. Backends.SysbenchConnection(target.Address.ToString()), "--tables=1",
                $"--table-size={Backends.SysbenchTableSize}", $"--threads={Threads}",
                $"--time={context.DurationSeconds}", "--events=0", "--percentile=95", "--report-interval=0", "run"],
            context.ToolTimeout).WaitAsync(cancellationToken);
        var output = result.StandardOutput;
        var queries = QueriesLine().Match(output);
        var p95 = PercentileLine().Match(output);
        if (!result.Succeeded || !queries.Success || !p95.Success)
        {
            throw new BenchFailureException($"sysbench {Test} failed (exit code {result.ExitCode})",
                result.ToString().Split('\n'));
        }

        var measured = new MeasuredValues();
        measured.Values["queries_per_second"] = double.Parse(queries.Groups[1].Value, CultureInfo.InvariantCulture);
        measured.Values["latency_p95_ms"] = double.Parse(p95.Groups[1].Value, CultureInfo.InvariantCulture);
        return measured;
    }

    // "        queries:                             1234567 (41152.06 per sec.)"
    [GeneratedRegex(@"^\s+queries:\s+[0-9]+\s+\(([0-9.]+) per sec\.\)", RegexOptions.Multiline)]
    private static partial Regex QueriesLine();

    // "         95th percentile:                        0.30"
    [GeneratedRegex(@"^\s+95th percentile:\s+([0-9.]+)", RegexOptions.Multiline)]
    private static partial Regex PercentileLine();
}

/// <summary>One primary-key lookup per event: the shortest MySQL round trip.</summary>
internal sealed class SysbenchPointSelectWorkload()
    : SysbenchWorkload("sysbench-point-select", "sysbench oltp_point_select", "oltp_point_select");

/// <summary>A read-only transaction (point selects and range queries): larger responses, still latency-bound.</summary>
internal sealed class SysbenchReadOnlyWorkload()
    : SysbenchWorkload("sysbench-read-only", "sysbench oltp_read_only", "oltp_read_only");
