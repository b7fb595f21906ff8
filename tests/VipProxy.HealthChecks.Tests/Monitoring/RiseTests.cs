using System.Net;
using Microsoft.Extensions.Time.Testing;
using VipProxy.Config.Model;
using VipProxy.HealthChecks.Monitoring;
using VipProxy.HealthChecks.Scripts;
using VipProxy.HealthChecks.Tests.Support;

namespace VipProxy.HealthChecks.Tests.Monitoring;

/// <summary>Issue 16: a checker's <c>rise N</c> reaches the monitor: N good probes in a row bring a server up.</summary>
[Collection(TimingCollection.Name)]
[Trait("Category", "Root")]
public sealed class RiseTests
{
    private readonly FakeTimeProvider _clock = new();
    private readonly ScriptRunner _scripts = new(new ScriptSettings(new ScriptAccount("root", null), false));

    private static RealServer Server() =>
        new(new IPEndPoint(IPAddress.Loopback, 3306), 1, false, null, null, null, ValueList<HealthCheck>.Empty);

    [Fact]
    public void Timing_of_the_settings_carries_rise()
    {
        Assert.Equal(1, RealServerMonitor.TimingOf(Settings.Check()).Rise);
        Assert.Equal(3, RealServerMonitor.TimingOf(Settings.Check() with { Rise = 3 }).Rise);
    }

    [Fact]
    public async Task Rise_3_needs_three_good_probes_in_a_row()
    {
        var probe = new ScriptedProbe("db") { Up = true };
        CheckSettings settings = Settings.Check(delayLoop: 10, delayBeforeRetry: 1) with { Rise = 3 };
        await using var monitor = new RealServerMonitor(Server(), [(probe, RealServerMonitor.TimingOf(settings))], alpha: true, _scripts,
            new HealthMonitorOptions { TimeProvider = _clock, Random = new Random(7) });
        monitor.Start();

        await _clock.AdvanceUntilAsync(() => monitor.Status.IsUp, TimeSpan.FromMilliseconds(250), TimeSpan.FromSeconds(60));

        Assert.Equal(3, probe.Calls);
        Assert.Equal(3, monitor.Status.Checkers[0].ConsecutiveSuccesses);
    }
}
