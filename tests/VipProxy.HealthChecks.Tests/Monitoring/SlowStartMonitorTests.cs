using System.Collections.Concurrent;
using System.Net;
using Microsoft.Extensions.Time.Testing;
using VipProxy.Config.Model;
using VipProxy.HealthChecks.Decisions;
using VipProxy.HealthChecks.Monitoring;
using VipProxy.HealthChecks.Scripts;
using VipProxy.HealthChecks.Tests.Support;

namespace VipProxy.HealthChecks.Tests.Monitoring;

/// <summary>Issue 16: a real server with <c>slowstart</c> that comes back up gets its weight in steps on a fake
/// clock, the low weight before it is scheduled again; not at start-up; a failure ends the ramp.</summary>
[Collection(TimingCollection.Name)]
public sealed class SlowStartMonitorTests
{
    private readonly FakeTimeProvider _clock = new();
    private readonly ScriptRunner _scripts = new(new ScriptSettings(new ScriptAccount("root", null), false));

    private HealthMonitorOptions Options => new() { TimeProvider = _clock, Random = new Random(7) };

    private static RealServer Server(double slowStartSeconds) =>
        new(new IPEndPoint(IPAddress.Loopback, 3306), 100, false, null, null, null, ValueList<HealthCheck>.Empty, SlowStart: TimeSpan.FromSeconds(slowStartSeconds));

    private static CheckTiming Timing() =>
        new(TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(1), 0, TimeSpan.FromSeconds(1), TimeSpan.Zero);

    [Fact]
    public async Task A_returning_server_ramps_from_1_to_its_weight_over_the_window_and_the_low_weight_comes_first()
    {
        var probe = new ScriptedProbe("db");
        await using var monitor = new RealServerMonitor(Server(10), [(probe, Timing())], false, _scripts, Options);
        var order = new ConcurrentQueue<string>();
        var weights = new ConcurrentQueue<int>();
        monitor.HealthChanged += (_, e) => order.Enqueue(e.Transition.ToString());
        monitor.WeightChanged += (_, e) =>
        {
            order.Enqueue($"weight {e.Status.Weight}");
            weights.Enqueue(e.Status.Weight);
        };
        monitor.Start();

        // Start-up: no ramp, full weight.
        await _clock.AdvanceUntilAsync(() => probe.Calls >= 1, TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(5));
        Assert.Equal(100, monitor.Status.Weight);
        Assert.Empty(weights);

        probe.Up = false;
        await _clock.AdvanceUntilAsync(() => !monitor.Status.IsUp, TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(10));
        probe.Up = true;
        await _clock.AdvanceUntilAsync(() => monitor.Status.IsUp, TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(10));
        int atUp = monitor.Status.Weight;
        Assert.InRange(atUp, 1, 10);
        await Eventually.TrueAsync(() => order.Contains("WentUp"), TimeSpan.FromSeconds(2), "WentUp raised");
        var sequence = order.ToList();
        Assert.True(sequence.IndexOf($"weight {atUp}") < sequence.IndexOf("WentUp"), string.Join(", ", sequence));

        TimeSpan toFull = await _clock.AdvanceUntilAsync(() => monitor.Status.Weight == 100, TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(15));
        Assert.InRange(toFull, TimeSpan.FromSeconds(9), TimeSpan.FromSeconds(11));
        var ramp = weights.ToList();
        Assert.True(ramp.Count >= 8, $"weights {string.Join(' ', ramp)}");
        Assert.Equal(ramp.Order(), ramp);
        Assert.Equal(100, ramp[^1]);
    }

    [Fact]
    public async Task A_failure_during_the_ramp_ends_it_and_the_next_return_ramps_again()
    {
        var probe = new ScriptedProbe("db");
        await using var monitor = new RealServerMonitor(Server(20), [(probe, Timing())], false, _scripts, Options);
        monitor.Start();
        await _clock.AdvanceUntilAsync(() => probe.Calls >= 1, TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(5));
        probe.Up = false;
        await _clock.AdvanceUntilAsync(() => !monitor.Status.IsUp, TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(10));
        probe.Up = true;
        await _clock.AdvanceUntilAsync(() => monitor.Status.IsUp, TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(10));
        await _clock.AdvanceUntilAsync(() => monitor.Status.Weight >= 20, TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(10));

        probe.Up = false;
        await _clock.AdvanceUntilAsync(() => !monitor.Status.IsUp, TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(10));
        int downWeight = monitor.Status.Weight;
        _clock.Advance(TimeSpan.FromSeconds(30));
        await Task.Delay(50);
        Assert.Equal(downWeight, monitor.Status.Weight); // no ramp step while down

        probe.Up = true;
        await _clock.AdvanceUntilAsync(() => monitor.Status.IsUp, TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(10));
        Assert.InRange(monitor.Status.Weight, 1, 10);
    }
}
