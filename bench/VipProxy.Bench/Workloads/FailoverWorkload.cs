using System.Globalization;
using VipProxy.Bench.Contenders;
using VipProxy.Bench.Infrastructure;
using VipProxy.Bench.Results;
using VipProxy.Lab;

namespace VipProxy.Bench.Workloads;

/// <summary>
/// Failover outage: an active/backup pair on the same LAN and VRRP timers (v2, advert_int 1, priorities 100/90);
/// the master's cable is cut (its bridge port goes down, as when a cable is pulled) and a probe in the client
/// times how long no new connection through the VIP completes an HTTP request. The figure is from the moment the
/// cut took effect to the end of the first successful request started after it.
/// </summary>
internal sealed class FailoverWorkload() : Workload("failover", "failover outage (link cut)")
{
    private const int ProbeIntervalMilliseconds = 20;
    private static readonly TimeSpan UpTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan RecoveryTimeout = TimeSpan.FromSeconds(30);

    public override string Description =>
        "VipProxy pair vs keepalived 2.2.7 + HAProxy pair (shown in the haproxy column); VRRPv2, advert_int 1, " +
        $"priorities 100/90; a new HTTP request through the VIP every {ProbeIntervalMilliseconds} ms; outage = " +
        "cut → first successful request started after the cut.";

    public override IReadOnlyList<MetricDefinition> Metrics { get; } =
    [
        new("outage_seconds", "outage", "s", HigherIsBetter: false, ProxiesOnly: true),
    ];

    public override IReadOnlySet<Service> Services { get; } = new HashSet<Service> { Service.Http };

    public override bool AppliesTo(Contender contender) => contender?.CreateFailoverPair() is not null;

    public override async Task<MeasuredValues> RunAsync(Contender contender, WorkloadContext context,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(contender);
        ArgumentNullException.ThrowIfNull(context);
        var pair = contender.CreateFailoverPair() ?? throw new BenchFailureException($"{contender} has no failover pair");
        var topology = context.Topology;
        await using var running = await pair.StartAsync(context.Contenders, cancellationToken);

        var (program, arguments) = SelfCommand.For("probe", topology.Vip.ToString(),
            ServicePorts.Http.ToString(CultureInfo.InvariantCulture),
            ProbeIntervalMilliseconds.ToString(CultureInfo.InvariantCulture), "60");
        var probe = topology.Client.Start(program, arguments);
        var masterLink = topology.Lb.Interfaces[0];
        try
        {
            await WaitForLineAsync(probe, _ => true, UpTimeout, "no request through the VIP succeeded before the cut",
                running, cancellationToken);
            await masterLink.CutLinkAsync(LinkCut.Cable);
            var cut = MonotonicClock.NowNanoseconds();
            var line = await WaitForLineAsync(probe, start => start > cut, RecoveryTimeout,
                $"no request through the VIP succeeded within {RecoveryTimeout.TotalSeconds:0} s of the cut",
                running, cancellationToken);
            var finished = long.Parse(line.Split(' ')[2], CultureInfo.InvariantCulture);
            var measured = new MeasuredValues();
            measured.Values["outage_seconds"] = (finished - cut) / 1e9;
            measured.Notes["pair"] = pair.Name;
            return measured;
        }
        finally
        {
            await probe.DisposeAsync();
            await masterLink.RestoreLinkAsync();
        }
    }

    /// <summary>The first "ok START END" line whose START passes <paramref name="startFilter"/>.</summary>
    private static async Task<string> WaitForLineAsync(LanProcess probe, Func<long, bool> startFilter, TimeSpan timeout,
        string failure, RunningPair running, CancellationToken cancellationToken)
    {
        try
        {
            return await probe.WaitForOutputAsync(
                line => line.StartsWith("ok ", StringComparison.Ordinal) &&
                        startFilter(long.Parse(line.Split(' ')[1], CultureInfo.InvariantCulture)),
                timeout).WaitAsync(cancellationToken);
        }
        catch (TimeoutException e)
        {
            throw new BenchFailureException(failure, running.OutputTail(), e);
        }
    }
}
