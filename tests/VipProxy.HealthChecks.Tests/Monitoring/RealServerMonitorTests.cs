using System.Collections.Concurrent;
using System.Net;
using Microsoft.Extensions.Time.Testing;
using VipProxy.Config.Model;
using VipProxy.HealthChecks.Decisions;
using VipProxy.HealthChecks.Monitoring;
using VipProxy.HealthChecks.Probes;
using VipProxy.HealthChecks.Scripts;
using VipProxy.HealthChecks.Tests.Support;

namespace VipProxy.HealthChecks.Tests.Monitoring;

/// <summary>The monitor's schedule and transitions on a fake clock, with probes the test controls. Measured fake
/// times are upper bounds by at most a step or two, as the loops run on real threads between steps.</summary>
[Collection(TimingCollection.Name)]
[Trait("Category", "Root")]
public sealed class RealServerMonitorTests : IDisposable
{
    private readonly FakeTimeProvider _clock = new();
    private readonly TempDirectory _dir = new();
    private readonly ScriptRunner _scripts = new(new ScriptSettings(new ScriptAccount("root", null), false));

    public void Dispose() => _dir.Dispose();

    private HealthMonitorOptions Options => new() { TimeProvider = _clock, Random = new Random(7) };

    private static RealServer Server(int port, int weight = 1, ScriptCommand? up = null, ScriptCommand? down = null) =>
        new(new IPEndPoint(IPAddress.Loopback, port), weight, false, up, down, null, ValueList<HealthCheck>.Empty);

    private static CheckTiming Timing(double delayLoop = 10, int retry = 2, double delayBeforeRetry = 1, double warmup = 0) =>
        new(TimeSpan.FromSeconds(delayLoop), TimeSpan.FromSeconds(1), retry, TimeSpan.FromSeconds(delayBeforeRetry), TimeSpan.FromSeconds(warmup));

    [Fact]
    public async Task Goes_down_after_retry_plus_one_failures_and_up_after_one_success_with_notify_scripts()
    {
        string log = Path.Combine(_dir.Path, "notify.log");
        string notify = _dir.Script("notify.sh", $"echo \"$1\" >> {log}");
        var probe = new ScriptedProbe("db");
        await using var monitor = new RealServerMonitor(
            Server(3306, up: Settings.Command(notify, "up"), down: Settings.Command(notify, "down")),
            [(probe, Timing())], alpha: false, _scripts, Options);
        var events = new ConcurrentQueue<RealServerHealthChangedEventArgs>();
        monitor.HealthChanged += (_, e) => events.Enqueue(e);
        monitor.Start();
        await _clock.AdvanceUntilAsync(() => probe.Calls == 1, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));

        probe.Up = false;
        TimeSpan toDown = await _clock.AdvanceUntilAsync(() => !monitor.Status.IsUp, TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(30));

        // A failure at delay_loop (10 s), then retry 2 more at delay_before_retry (1 s) each.
        Assert.InRange(toDown, TimeSpan.FromSeconds(12), TimeSpan.FromSeconds(13));
        Assert.Equal(4, probe.Calls);
        RealServerHealthStatus down = monitor.Status;
        Assert.Equal("scripted down", down.Reason);
        Assert.Equal(3, down.Checkers[0].ConsecutiveFailures);
        Assert.Equal(0, down.Checkers[0].Health);
        Assert.Equal(_clock.GetUtcNow(), down.LastTransitionTime);
        await Eventually.TrueAsync(() => !events.IsEmpty, TimeSpan.FromSeconds(2), "HealthChanged raised");
        Assert.True(events.TryDequeue(out var wentDown));
        Assert.Equal(HealthTransition.WentDown, wentDown.Transition);
        Assert.Equal(99, wentDown.Result.ErrorCode);

        probe.Up = true;
        TimeSpan toUp = await _clock.AdvanceUntilAsync(() => monitor.Status.IsUp, TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(30));

        Assert.InRange(toUp, TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(11)); // a down server is probed every delay_loop; one success suffices
        await Eventually.TrueAsync(() => !events.IsEmpty, TimeSpan.FromSeconds(2), "HealthChanged raised");
        Assert.True(events.TryDequeue(out var wentUp));
        Assert.Equal(HealthTransition.WentUp, wentUp.Transition);
        Assert.Equal(1, monitor.Status.Checkers[0].ConsecutiveSuccesses);
        await Eventually.TrueAsync(() => File.Exists(log) && File.ReadAllLines(log).Length == 2, TimeSpan.FromSeconds(5), "notify scripts ran");
        Assert.Equal(["down", "up"], File.ReadAllLines(log));
    }

    [Fact]
    public async Task CheckNow_probes_at_once_so_a_dead_server_goes_down_within_its_retries_not_a_delay_loop_later()
    {
        var probe = new ScriptedProbe("db");
        await using var monitor = new RealServerMonitor(Server(3306), [(probe, Timing(delayLoop: 60, retry: 1))], false, _scripts, Options);
        monitor.Start();
        await _clock.AdvanceUntilAsync(() => probe.Calls == 1, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
        // The first result must be recorded before the clock moves on: the expedited probe keeps a 1 s gap from the
        // end of the previous one, and a result recorded after the Advance below would put that gap in the future
        // of a clock this test no longer advances.
        await Eventually.TrueAsync(() => monitor.Status.Checkers[0].ConsecutiveSuccesses == 1, TimeSpan.FromSeconds(5), "first result recorded");
        probe.Up = false;
        _clock.Advance(TimeSpan.FromSeconds(5));

        // The forwarder's connect failed: no 55 s wait for the next delay_loop.
        monitor.CheckNow();
        await Eventually.TrueAsync(() => probe.Calls == 2, TimeSpan.FromSeconds(5), "probe run on CheckNow");
        TimeSpan toDown = await _clock.AdvanceUntilAsync(() => !monitor.Status.IsUp, TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(10));

        Assert.InRange(toDown, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1.5)); // retry 1: one more probe after delay_before_retry
        Assert.Equal(3, probe.Calls);
    }

    [Fact]
    public async Task A_single_failure_within_retry_does_not_mark_down()
    {
        var probe = new ScriptedProbe("db");
        await using var monitor = new RealServerMonitor(Server(3306), [(probe, Timing())], false, _scripts, Options);
        var events = new ConcurrentQueue<RealServerHealthChangedEventArgs>();
        monitor.HealthChanged += (_, e) => events.Enqueue(e);
        monitor.Start();
        await _clock.AdvanceUntilAsync(() => probe.Calls == 1, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));

        probe.Up = false;
        await _clock.AdvanceUntilAsync(() => probe.Calls == 2, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(10));
        probe.Up = true;
        await _clock.AdvanceUntilAsync(() => monitor.Status.Checkers[0].ConsecutiveSuccesses == 2, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(20));

        Assert.True(monitor.Status.IsUp);
        Assert.Empty(events);
        Assert.Equal(3, monitor.Status.Checkers[0].Health); // back to the full margin: rise 1 + fall 3 − 1
    }

    [Fact]
    public async Task Up_only_while_every_checker_passes()
    {
        var first = new ScriptedProbe("a");
        var second = new ScriptedProbe("b");
        await using var monitor = new RealServerMonitor(Server(3306),
            [(first, Timing(retry: 0)), (second, Timing(retry: 0))], false, _scripts, Options);
        monitor.Start();

        second.Up = false;
        await _clock.AdvanceUntilAsync(() => !monitor.Status.IsUp, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(20));
        Assert.True(monitor.Status.Checkers[0].IsUp);
        Assert.False(monitor.Status.Checkers[1].IsUp);

        second.Up = true;
        await _clock.AdvanceUntilAsync(() => monitor.Status.IsUp, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(20));
    }

    [Fact]
    public async Task Alpha_starts_down_until_the_first_success()
    {
        var probe = new ScriptedProbe("db");
        await using var monitor = new RealServerMonitor(Server(3306), [(probe, Timing())], alpha: true, _scripts, Options);

        Assert.False(monitor.Status.IsUp);
        monitor.Start();
        await _clock.AdvanceUntilAsync(() => monitor.Status.IsUp, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
    }

    [Fact]
    public async Task Warmup_delays_the_first_probe_by_a_seeded_random_time_below_warmup()
    {
        var probe = new ScriptedProbe("db");
        await using var monitor = new RealServerMonitor(Server(3306), [(probe, Timing(warmup: 10))], false, _scripts, Options);
        monitor.Start();

        TimeSpan first = await _clock.AdvanceUntilAsync(() => probe.Calls == 1, TimeSpan.FromMilliseconds(250), TimeSpan.FromSeconds(10));

        var expected = new CheckScheduler(Timing(warmup: 10), true, new Random(7), new FakeTimeProvider()).InitialDelay;
        Assert.InRange(first, expected, expected + TimeSpan.FromMilliseconds(500));
    }

    [Fact]
    public async Task Dynamic_weight_is_reported()
    {
        var probe = new ScriptedProbe("misc") { DynamicWeight = 5 };
        await using var monitor = new RealServerMonitor(Server(3306, weight: 1), [(probe, Timing())], false, _scripts, Options);
        var changes = new ConcurrentQueue<RealServerWeightChangedEventArgs>();
        monitor.WeightChanged += (_, e) => changes.Enqueue(e);
        monitor.Start();

        await _clock.AdvanceUntilAsync(() => monitor.Status.Weight == 5, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));

        await Eventually.TrueAsync(() => !changes.IsEmpty, TimeSpan.FromSeconds(2), "WeightChanged raised");
        Assert.True(changes.TryDequeue(out var change));
        Assert.Equal((1, 5), (change.PreviousWeight, change.Status.Weight));
    }

    [Fact]
    public async Task Stop_cancels_a_running_probe_and_kills_its_script_promptly()
    {
        string pidFile = Path.Combine(_dir.Path, "pid");
        string script = _dir.Script("hang.sh", $"echo $$ > {pidFile}; exec sleep 60");
        var check = new MiscCheck(Settings.Check(retry: 0), Settings.Command(script), TimeSpan.FromSeconds(120), false, null);
        var monitor = new RealServerMonitor(Server(3306), [(new MiscProbe(check, _scripts), Timing())], false, _scripts,
            new HealthMonitorOptions());
        monitor.Start();
        await Eventually.TrueAsync(() => File.Exists(pidFile) && File.ReadAllText(pidFile).Length > 0, TimeSpan.FromSeconds(5), "script started");
        int pid = int.Parse(File.ReadAllText(pidFile).Trim());

        var watch = System.Diagnostics.Stopwatch.StartNew();
        await monitor.DisposeAsync();

        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(2), $"stop took {watch.Elapsed}");
        await Eventually.TrueAsync(() => !Directory.Exists($"/proc/{pid}"), TimeSpan.FromSeconds(3), "script killed");
    }
}
