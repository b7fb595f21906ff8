using VipProxy.HealthChecks.Decisions;

namespace VipProxy.HealthChecks.Tests.Decisions;

/// <summary>Issue 16: <c>slowstart SECS</c> ramps a returning server's weight from 1 to its weight.</summary>
public class SlowStartRampTests
{
    private static readonly TimeSpan Window = TimeSpan.FromSeconds(30);

    [Theory]
    [InlineData(100, 0, 1)]
    [InlineData(100, 3, 10)]
    [InlineData(100, 15, 50)]
    [InlineData(100, 29.9, 100)]
    [InlineData(100, 30, 100)]
    [InlineData(100, 300, 100)]
    [InlineData(1, 0, 1)]
    [InlineData(3, 11, 2)]
    [InlineData(0, 5, 0)]
    public void The_weight_rises_linearly_from_1_to_the_weight_over_the_window(int target, double seconds, int weight) =>
        Assert.Equal(weight, SlowStartRamp.WeightAt(target, TimeSpan.FromSeconds(seconds), Window));

    [Fact]
    public void The_ramp_ends_with_the_window()
    {
        Assert.True(SlowStartRamp.IsRamping(TimeSpan.FromSeconds(29), Window));
        Assert.False(SlowStartRamp.IsRamping(Window, Window));
        Assert.False(SlowStartRamp.IsRamping(TimeSpan.Zero, TimeSpan.Zero));
    }

    [Theory]
    [InlineData(30, 1000)]
    [InlineData(10, 500)]
    [InlineData(1, 100)]
    [InlineData(0.5, 100)]
    public void The_step_is_a_twentieth_of_the_window_between_a_tenth_and_one_second(double window, int milliseconds) =>
        Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), SlowStartRamp.Step(TimeSpan.FromSeconds(window)));
}
