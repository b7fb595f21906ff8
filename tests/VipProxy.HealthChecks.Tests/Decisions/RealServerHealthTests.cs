using VipProxy.HealthChecks.Decisions;

namespace VipProxy.HealthChecks.Tests.Decisions;

public class RealServerHealthTests
{
    [Fact]
    public void A_server_is_up_only_while_all_checkers_pass()
    {
        var health = new RealServerHealth(checkerCount: 2, initialUp: true);
        Assert.True(health.IsUp);
        Assert.Equal(HealthTransition.WentDown, health.SetCheckerState(0, false));
        Assert.Equal(HealthTransition.None, health.SetCheckerState(1, false));
        Assert.Equal(2, health.FailingCheckers);
        Assert.Equal(HealthTransition.None, health.SetCheckerState(0, true));
        Assert.False(health.IsUp);
        Assert.Equal(HealthTransition.WentUp, health.SetCheckerState(1, true));
        Assert.Equal(HealthTransition.None, health.SetCheckerState(1, true)); // repeated report changes nothing
    }

    [Fact]
    public void Alpha_starts_every_checker_down()
    {
        var health = new RealServerHealth(checkerCount: 3, initialUp: false);
        Assert.False(health.IsUp);
        Assert.Equal(HealthTransition.None, health.SetCheckerState(0, true));
        Assert.Equal(HealthTransition.None, health.SetCheckerState(1, true));
        Assert.Equal(HealthTransition.WentUp, health.SetCheckerState(2, true));
    }

    [Fact]
    public void A_server_without_checkers_is_up()
    {
        Assert.True(new RealServerHealth(0, initialUp: false).IsUp);
        Assert.Throws<ArgumentOutOfRangeException>(() => new RealServerHealth(1, true).SetCheckerState(1, true));
    }
}
