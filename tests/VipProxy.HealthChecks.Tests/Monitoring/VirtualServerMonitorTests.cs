using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Time.Testing;
using VipProxy.Config.Model;
using VipProxy.HealthChecks.Decisions;
using VipProxy.HealthChecks.Monitoring;
using VipProxy.HealthChecks.Probes;
using VipProxy.HealthChecks.Scripts;
using VipProxy.HealthChecks.Tests.Support;
using Xunit.Abstractions;

namespace VipProxy.HealthChecks.Tests.Monitoring;

[Collection(TimingCollection.Name)]
[Trait("Category", "Root")]
public sealed class VirtualServerMonitorTests(ITestOutputHelper output) : IDisposable
{
    private readonly TempDirectory _dir = new();
    private readonly ScriptRunner _scripts = new(new ScriptSettings(new ScriptAccount("root", null), false));

    public void Dispose() => _dir.Dispose();

    private static VirtualServer VirtualServer(int quorum, int hysteresis, IEnumerable<RealServer> realServers,
        ScriptCommand? quorumUp = null, ScriptCommand? quorumDown = null) =>
        new(new IPEndPoint(IPAddress.Parse("192.0.2.10"), 8066), TimeSpan.FromSeconds(1), SchedulingAlgorithm.WeightedLeastConnection, null,
            IPAddress.Broadcast, null, false, false, quorum, hysteresis, quorumUp, quorumDown, Alpha: false, Omega: false,
            null, TimeSpan.FromSeconds(5), null, false, null, null, new(realServers));

    private static RealServer Real(int port, int weight, params HealthCheck[] checks) =>
        new(new IPEndPoint(IPAddress.Loopback, port), weight, false, null, null, null, new(checks));

    [Fact]
    public async Task Quorum_follows_the_live_weight_within_the_hysteresis_band_and_runs_quorum_scripts()
    {
        var clock = new FakeTimeProvider();
        string log = Path.Combine(_dir.Path, "quorum.log");
        string script = _dir.Script("quorum.sh", $"echo \"$1\" >> {log}");
        RealServer[] reals = [Real(1, 1), Real(2, 2), Real(3, 3)];
        ScriptedProbe[] probes = [new("rs1"), new("rs2"), new("rs3")];
        var timing = new CheckTiming(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1), 0, TimeSpan.Zero, TimeSpan.Zero);
        var options = new HealthMonitorOptions { TimeProvider = clock, Random = new Random(1) };
        var monitors = reals.Select((r, i) => new RealServerMonitor(r, [(probes[i], timing)], false, _scripts, options)).ToList();
        // quorum 4 ± 1: lost below 3, regained at 5.
        await using var vs = new VirtualServerMonitor(
            VirtualServer(4, 1, reals, Settings.Command(script, "up"), Settings.Command(script, "down")), monitors, _scripts, options);
        var events = new ConcurrentQueue<QuorumChangedEventArgs>();
        vs.QuorumChanged += (_, e) => events.Enqueue(e);
        vs.Start();
        Assert.True(vs.HasQuorum);

        async Task SetAsync(int index, bool up, long expectedWeight)
        {
            probes[index].Up = up;
            await clock.AdvanceUntilAsync(() => vs.Status.LiveWeight == expectedWeight, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(5));
        }

        await SetAsync(2, up: false, expectedWeight: 3);   // 3 is inside the band: keeps quorum
        Assert.True(vs.HasQuorum);
        await SetAsync(1, up: false, expectedWeight: 1);   // 1 < 3: lost
        await Eventually.TrueAsync(() => !vs.HasQuorum, TimeSpan.FromSeconds(2), "quorum lost");
        await SetAsync(1, up: true, expectedWeight: 3);    // 3 < 5: still lost
        Assert.False(vs.HasQuorum);
        await SetAsync(2, up: true, expectedWeight: 6);    // 6 ≥ 5: regained
        await Eventually.TrueAsync(() => vs.HasQuorum, TimeSpan.FromSeconds(2), "quorum regained");

        Assert.Equal(
            [(QuorumTransition.QuorumDown, 1L), (QuorumTransition.QuorumUp, 6L)],
            events.Select(e => (e.Transition, e.LiveWeight)).ToArray());
        await Eventually.TrueAsync(() => File.Exists(log) && File.ReadAllLines(log).Length == 2, TimeSpan.FromSeconds(5), "quorum scripts ran");
        Assert.Equal(["down", "up"], File.ReadAllLines(log));
    }

    [Fact]
    public async Task Dead_real_server_is_reported_down_within_the_detection_bound_and_up_after_restart()
    {
        // delay_loop 1, connect_timeout 1, retry 1, delay_before_retry 0.2: down within 1 × (1 + 1) + 1 = 3 s.
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var check = new TcpCheck(Settings.Check(connectTimeout: 1, retry: 1, delayBeforeRetry: 0.2, warmup: 0, delayLoop: 1));
        VirtualServer config = VirtualServer(1, 0, [Real(port, 1, check)]);
        await using var vs = VirtualServerMonitor.Create(config, new HealthProbeFactory(_scripts), _scripts, new HealthMonitorOptions());
        RealServerMonitor real = vs.RealServers[0];
        var down = new TaskCompletionSource<RealServerHealthChangedEventArgs>(TaskCreationOptions.RunContinuationsAsynchronously);
        var up = new TaskCompletionSource<RealServerHealthChangedEventArgs>(TaskCreationOptions.RunContinuationsAsynchronously);
        real.HealthChanged += (_, e) => (e.Transition == HealthTransition.WentDown ? down : up).TrySetResult(e);
        var quorum = new ConcurrentQueue<QuorumChangedEventArgs>();
        vs.QuorumChanged += (_, e) => quorum.Enqueue(e);
        vs.Start();
        await Eventually.TrueAsync(() => real.Status.LastResult is { IsUp: true }, TimeSpan.FromSeconds(5), "first probe passed");

        var watch = Stopwatch.StartNew();
        listener.Stop();
        RealServerHealthChangedEventArgs wentDown = await down.Task.WaitAsync(TimeSpan.FromSeconds(10));
        TimeSpan detection = watch.Elapsed;

        Assert.True(detection <= TimeSpan.FromSeconds(3 + 1), $"down after {detection}, bound 3 s + 1 s margin");
        Assert.Contains("connection refused", wentDown.Result.Reason, StringComparison.Ordinal);
        Assert.False(real.Status.IsUp);
        await Eventually.TrueAsync(() => !vs.HasQuorum, TimeSpan.FromSeconds(2), "quorum lost with the only real server");

        watch.Restart();
        var restarted = new TcpListener(IPAddress.Loopback, port);
        restarted.Server.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        restarted.Start();
        try
        {
            await up.Task.WaitAsync(TimeSpan.FromSeconds(10));
            TimeSpan recovery = watch.Elapsed;
            Assert.True(recovery <= TimeSpan.FromSeconds(1 + 1 + 1), $"up after {recovery}");
            await Eventually.TrueAsync(() => vs.HasQuorum, TimeSpan.FromSeconds(2), "quorum regained");
            Assert.Equal([QuorumTransition.QuorumDown, QuorumTransition.QuorumUp], quorum.Select(q => q.Transition).ToArray());
            output.WriteLine($"detected down after {detection.TotalMilliseconds:0} ms, up after {recovery.TotalMilliseconds:0} ms");
        }
        finally
        {
            restarted.Stop();
        }
    }
}
