using System.Globalization;
using VipProxy.Bench.Contenders;
using VipProxy.Bench.Infrastructure;

namespace VipProxy.Bench.Workloads;

/// <summary>
/// HTTP request/response with wrk from the client to nginx's small static page: 2 threads (one per core), 50
/// connections, as for REFERENCE.md's anchor figures. The variants differ only in the extra headers.
/// </summary>
internal abstract class WrkWorkload(string name, string title) : ProxiedWorkload(name, title)
{
    protected const int Connections = 50;

    /// <summary>Above this share of failed requests the figure measures errors, not forwarding.</summary>
    private const double MaxErrorShare = 0.01;

    public override IReadOnlySet<Service> Services { get; } = new HashSet<Service> { Service.Http };

    protected abstract IEnumerable<string> ExtraArguments { get; }

    protected async Task<WrkOutput> RunWrkAsync(RunningContender target, WorkloadContext context)
    {
        var url = string.Create(CultureInfo.InvariantCulture,
            $"http://{target.Address}:{ServicePorts.Http}{ServicePorts.HttpPath}");
        var result = await context.Topology.Client.RunAsync("wrk",
            ["-t", "2", "-c", Connections.ToString(CultureInfo.InvariantCulture),
                "-d", $"{context.DurationSeconds}s", "--timeout", "5s", "--latency", .. ExtraArguments, url],
            context.ToolTimeout);
        if (!result.Succeeded)
        {
            throw new BenchFailureException($"wrk exited with code {result.ExitCode}", result.ToString().Split('\n'));
        }

        var output = WrkOutput.Parse(result.StandardOutput);
        var failed = output.ConnectErrors + output.ReadErrors + output.WriteErrors + output.Timeouts + output.Non2xx;
        if (output.Requests == 0 || failed > output.Requests * MaxErrorShare)
        {
            throw new BenchFailureException(
                $"wrk: {output.Requests} requests, {failed} failed (connect {output.ConnectErrors}, read " +
                $"{output.ReadErrors}, write {output.WriteErrors}, timeout {output.Timeouts}, non-2xx {output.Non2xx})",
                result.StandardOutput.Split('\n'));
        }

        return output;
    }
}
