using VipProxy.Config.Model;
using VipProxy.HealthChecks.Monitoring;
using VipProxy.HealthChecks.Probes;
using VipProxy.HealthChecks.Probes.MySql;
using VipProxy.HealthChecks.Tests.Support;

namespace VipProxy.HealthChecks.Tests.MySql;

/// <summary>Issue 16: <c>lag_weight on</c> keeps a lagging replica up and scales its weight down instead.</summary>
public class LagWeightTests
{
    private const string MariaDb = "10.11.19-MariaDB-0+deb12u1-log";

    private static MySqlCheck Check => new(Settings.Check(), "u", "p", null) { MaxReplicationLag = 10, LagWeight = true };

    private static MySqlQueryOutcome Replica(string? secondsBehind) =>
        MySqlQueryOutcome.Of("SHOW SLAVE STATUS", new MySqlResultSet(
            ["Slave_IO_State", "Slave_IO_Running", "Slave_SQL_Running", "Seconds_Behind_Master"], [["Waiting", "Yes", secondsBehind is null ? "No" : "Yes", secondsBehind]]));

    private static ProbeResult Decide(MySqlCheck check, string? secondsBehind) =>
        MySqlRoleVerdict.Decide(check, new MySqlServerAnswers(MariaDb, null, null, Replica(secondsBehind), null));

    [Theory]
    [InlineData(0, 10, 100)]
    [InlineData(1, 10, 91)]
    [InlineData(5, 10, 55)]
    [InlineData(10, 10, 9)]
    [InlineData(11, 10, 0)]
    [InlineData(3600, 10, 0)]
    [InlineData(0, 0, 100)]
    [InlineData(1, 0, 0)]
    public void The_weight_falls_linearly_with_the_lag_and_is_0_beyond_the_maximum(long lag, int max, int percent) =>
        Assert.Equal(percent, MySqlRoleVerdict.LagWeightPercent(lag, max));

    [Fact]
    public void A_lagging_replica_stays_up_with_its_share_in_the_reason()
    {
        ProbeResult inSync = Decide(Check, "0");
        ProbeResult lagging = Decide(Check, "5");
        ProbeResult beyond = Decide(Check, "42");

        Assert.True(inSync.IsUp);
        Assert.Equal(100, inSync.WeightPercent);
        Assert.Equal("lag 0 s <= 10 s: weight 100 %", inSync.Reason);
        Assert.True(lagging.IsUp);
        Assert.Equal(55, lagging.WeightPercent);
        Assert.True(beyond.IsUp);
        Assert.Equal(0, beyond.WeightPercent);
        Assert.Equal("lag 42 s > 10 s: weight 0 %", beyond.Reason);
    }

    [Fact]
    public void Stopped_replication_is_still_down_and_without_lag_weight_a_lag_beyond_the_maximum_is_down()
    {
        ProbeResult stopped = Decide(Check, null);
        Assert.False(stopped.IsUp);
        Assert.Null(stopped.WeightPercent);
        Assert.StartsWith("replication stopped", stopped.Reason, StringComparison.Ordinal);

        ProbeResult plain = Decide(Check with { LagWeight = false }, "42");
        Assert.False(plain.IsUp);
        Assert.Null(plain.WeightPercent);
        Assert.Null(Decide(Check with { LagWeight = false }, "3").WeightPercent);
    }

    [Theory]
    [InlineData(10, 100, 10)]
    [InlineData(10, 55, 6)]
    [InlineData(3, 9, 1)]
    [InlineData(3, 0, 0)]
    [InlineData(0, 100, 0)]
    [InlineData(65535, 91, 59637)]
    public void The_monitor_scales_the_configured_weight_and_never_rounds_a_positive_share_to_0(int configured, int percent, int weight) =>
        Assert.Equal(weight, RealServerMonitor.ScaledWeight(configured, percent));
}
