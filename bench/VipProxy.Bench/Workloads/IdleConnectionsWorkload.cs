using System.Globalization;
using VipProxy.Bench.Contenders;
using VipProxy.Bench.Infrastructure;
using VipProxy.Bench.Results;

namespace VipProxy.Bench.Workloads;

/// <summary>
/// Memory per idle proxied connection: a MySQL pool keeps hundreds of connections open that mostly wait. Opens N
/// connections through a fresh proxy (to nginx, which waits for a request that never comes), waits until the
/// proxy has connected all of them to the backend, and divides the growth of the proxy's VmRSS by N.
/// </summary>
internal sealed class IdleConnectionsWorkload() : ProxiedWorkload("idle-connections", "idle proxied connections")
{
    private static readonly TimeSpan OpenTimeout = TimeSpan.FromSeconds(90);
    private static readonly TimeSpan BackendTimeout = TimeSpan.FromSeconds(15);

    public override string Description =>
        "N connections opened through the proxy by a small C# client and held without traffic; (VmRSS after − " +
        "VmRSS before) / N from /proc/PID/status. N is capped below half the fd limit (each costs the proxy two fds; HAProxy also needs room for its pipes).";

    public override IReadOnlyList<MetricDefinition> Metrics { get; } =
    [
        new("rss_kib_per_connection", "RSS per conn", "KiB", HigherIsBetter: false, ProxiesOnly: true),
    ];

    public override IReadOnlySet<Service> Services { get; } = new HashSet<Service> { Service.Http };

    public override bool AppliesTo(Contender contender) => contender?.IsProxy == true;

    protected override async Task<MeasuredValues> MeasureAsync(RunningContender target, WorkloadContext context,
        CancellationToken cancellationToken)
    {
        var pid = target.Pid ?? throw new BenchFailureException("no proxy process to measure");
        var count = context.IdleConnectionsFor(target.Contender);

        // Let the freshly started proxy finish its own start-up allocations before the baseline.
        await Task.Delay(500, cancellationToken);
        var before = ProcFs.ResidentKiB(pid);

        var (program, arguments) = Infrastructure.SelfCommand.For("hold-connections", target.Address.ToString(),
            ServicePorts.Http.ToString(CultureInfo.InvariantCulture), count.ToString(CultureInfo.InvariantCulture),
            "300");
        await using var holder = context.Topology.Client.Start(program, arguments);
        string line;
        try
        {
            line = await holder.WaitForOutputAsync(l => l.StartsWith("held ", StringComparison.Ordinal), OpenTimeout)
                .WaitAsync(cancellationToken);
        }
        catch (TimeoutException e)
        {
            throw new BenchFailureException($"the idle connections were not all opened: {e.Message}", holder.OutputLines, e);
        }

        var parts = line.Split(' ');
        var held = int.Parse(parts[1], CultureInfo.InvariantCulture);
        var failed = int.Parse(parts[2], CultureInfo.InvariantCulture);
        if (held == 0 || failed > count / 100)
        {
            throw new BenchFailureException($"only {held} of {count} idle connections opened ({failed} failed)");
        }

        var backend = await WaitForBackendConnectionsAsync(context, held, cancellationToken);
        var after = ProcFs.ResidentKiB(pid);
        var measured = new MeasuredValues();
        measured.Values["rss_kib_per_connection"] = (after - before) / (double)held;
        measured.Notes["connections"] = held.ToString(CultureInfo.InvariantCulture);
        measured.Notes["backend_connections"] = backend.ToString(CultureInfo.InvariantCulture);
        measured.Notes["rss_before_kib"] = before.ToString(CultureInfo.InvariantCulture);
        measured.Notes["rss_after_kib"] = after.ToString(CultureInfo.InvariantCulture);
        return measured;
    }

    /// <summary>
    /// A proxy accepts before it connects onward; measuring before the backend side exists would miss half of
    /// each connection's cost. Counts established connections from the LB to the real server's port.
    /// </summary>
    private static async Task<int> WaitForBackendConnectionsAsync(WorkloadContext context, int expected,
        CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + BackendTimeout;
        var filter = string.Create(CultureInfo.InvariantCulture,
            $"ss -Htn state established dst {context.Topology.RealServer.Address}:{ServicePorts.Http} | wc -l");
        while (true)
        {
            var result = await context.Topology.Lb.RunAsync("sh", "-c", filter);
            var established = int.Parse(result.StandardOutput.Trim(), CultureInfo.InvariantCulture);
            if (established >= expected)
            {
                // Settle: the last connections' buffers and bookkeeping are allocated just after the handshake.
                await Task.Delay(500, cancellationToken);
                return established;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new BenchFailureException(
                    $"the proxy holds {expected} client connections but only {established} to the real server");
            }

            await Task.Delay(200, cancellationToken);
        }
    }
}
