using System.Globalization;
using System.Text.Json;
using VipProxy.Bench.Contenders;
using VipProxy.Bench.Infrastructure;
using VipProxy.Bench.Results;

namespace VipProxy.Bench.Workloads;

/// <summary>
/// Bulk throughput with iperf3 (client → proxy → iperf3 server), and the proxy's CPU cost per GiB: its
/// utime + stime from /proc/PID/stat across the run, divided by the bytes iperf3 moved. The proxy idles before
/// and after, so the delta is the forwarding cost (plus iperf3's control connection, which is negligible).
/// </summary>
internal abstract class Iperf3Workload(string name, string title, int streams) : ProxiedWorkload(name, title)
{
    private const double BytesPerGiB = 1024.0 * 1024 * 1024;

    public int Streams { get; } = streams;

    public override string Description =>
        $"iperf3 -c … -P {Streams} -J for the run time; Gbit/s received, and the proxy's CPU seconds " +
        "(utime+stime) per GiB moved.";

    public override IReadOnlyList<MetricDefinition> Metrics { get; } =
    [
        new("gbit_per_second", "Gbit/s", "Gbit/s", HigherIsBetter: true),
        new("cpu_seconds_per_gib", "CPU s/GiB", "s/GiB", HigherIsBetter: false, ProxiesOnly: true),
    ];

    public override IReadOnlySet<Service> Services { get; } = new HashSet<Service> { Service.Bulk };

    protected override async Task<MeasuredValues> MeasureAsync(RunningContender target, WorkloadContext context,
        CancellationToken cancellationToken)
    {
        var cpuBefore = target.Pid is { } pid ? ProcFs.CpuSeconds(pid) : 0;
        var (bitsPerSecond, bytes) = await RunIperfAsync(target, context, cancellationToken);
        var measured = new MeasuredValues();
        measured.Values["gbit_per_second"] = bitsPerSecond / 1e9;
        if (target.Pid is { } proxyPid && bytes > 0)
        {
            var cpu = ProcFs.CpuSeconds(proxyPid) - cpuBefore;
            measured.Values["cpu_seconds_per_gib"] = cpu / (bytes / BytesPerGiB);
            measured.Notes["proxy_cpu_seconds"] = cpu.ToString("0.00", CultureInfo.InvariantCulture);
        }

        measured.Notes["bytes"] = bytes.ToString(CultureInfo.InvariantCulture);
        return measured;
    }

    private async Task<(double BitsPerSecond, long Bytes)> RunIperfAsync(RunningContender target,
        WorkloadContext context, CancellationToken cancellationToken)
    {
        string[] arguments =
        [
            "-c", target.Address.ToString(), "-p", ServicePorts.Bulk.ToString(CultureInfo.InvariantCulture),
            "-t", context.DurationSeconds.ToString(CultureInfo.InvariantCulture),
            "-P", Streams.ToString(CultureInfo.InvariantCulture), "-J", "--connect-timeout", "3000",
        ];

        // iperf3's server runs one test at a time and may still be closing the previous one (a proxy can close
        // its backend side a moment after the client finished): one retry after a pause covers that.
        for (var attempt = 1; ; attempt++)
        {
            var result = await context.Topology.Client.RunAsync("iperf3", arguments, context.ToolTimeout)
                .WaitAsync(cancellationToken);
            var (bitsPerSecond, bytes, error) = Parse(result.StandardOutput);
            if (error is null && result.Succeeded)
            {
                return (bitsPerSecond, bytes);
            }

            if (attempt == 2 || error?.Contains("busy", StringComparison.OrdinalIgnoreCase) != true)
            {
                throw new BenchFailureException($"iperf3 failed: {error ?? $"exit code {result.ExitCode}"}",
                    result.ToString().Split('\n'));
            }

            await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
        }
    }

    /// <summary>end.sum_received (what arrived, the honest figure) from iperf3's -J report, or its error.</summary>
    private static (double BitsPerSecond, long Bytes, string? Error) Parse(string json)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            var root = document.RootElement;
            if (root.TryGetProperty("error", out var error))
            {
                return (0, 0, error.GetString());
            }

            var received = root.GetProperty("end").GetProperty("sum_received");
            return (received.GetProperty("bits_per_second").GetDouble(),
                (long)received.GetProperty("bytes").GetDouble(), null);
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            return (0, 0, "unreadable JSON report: " + e.Message);
        }
    }
}

/// <summary>One TCP stream: per-connection forwarding speed.</summary>
internal sealed class Iperf3SingleStreamWorkload() : Iperf3Workload("iperf3-1", "iperf3 1 stream", 1);

/// <summary>Eight parallel streams: aggregate throughput when the proxy juggles several busy connections.</summary>
internal sealed class Iperf3MultiStreamWorkload() : Iperf3Workload("iperf3-8", "iperf3 8 streams", 8);
