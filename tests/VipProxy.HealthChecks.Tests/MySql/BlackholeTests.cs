using System.Diagnostics;
using VipProxy.Config.Model;
using VipProxy.HealthChecks.Probes;
using VipProxy.HealthChecks.Probes.MySql;
using VipProxy.HealthChecks.Tests.Support;
using VipProxy.Lab;
using VipProxy.TestServers;

namespace VipProxy.HealthChecks.Tests.MySql;

[Collection(TimingCollection.Name)]
public sealed class BlackholeTests
{
    [Fact]
    public async Task Server_that_accepts_but_never_greets_is_down_by_connect_timeout_promptly()
    {
        await using var blackhole = new SilentTcpServer();
        var probe = new MySqlProbe(Settings.Target(blackhole.EndPoint, timeoutSeconds: 0.5),
            new MySqlCheck(Settings.Check(), "u", "p", null));
        var watch = Stopwatch.StartNew();

        ProbeResult result = await probe.ProbeAsync(CancellationToken.None);

        Assert.False(result.IsUp);
        Assert.Equal("timed out after 0.5 s while reading the greeting", result.Reason);
        Assert.InRange(watch.Elapsed, TimeSpan.FromSeconds(0.45), TimeSpan.FromSeconds(1.5));
        Assert.Equal(1, blackhole.AcceptedCount);
    }
}
