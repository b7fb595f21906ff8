using VipProxy.Forwarding.Scheduling;

namespace VipProxy.Forwarding.Tests.Scheduling;

public class WeightedRoundRobinSchedulerTests
{
    [Theory]
    [InlineData(new[] { 3, 1 }, "A A B A")]
    [InlineData(new[] { 5, 1, 1 }, "A A B A C A A")]
    [InlineData(new[] { 1, 1 }, "A B")]
    [InlineData(new[] { 6, 2 }, "A A B A")] // reduced by gcd 2: a cycle of 4
    [InlineData(new[] { 2, 0, 1 }, "A C A")]
    [InlineData(new[] { 0, 0 }, "-")]
    public void One_cycle_is_smooth_and_exact(int[] weights, string expectedCycle)
    {
        var scheduler = new WeightedRoundRobinScheduler(TestServers.WithWeights(weights));
        int length = expectedCycle.Split(' ').Length;
        Assert.Equal(expectedCycle, TestServers.PickSequence(scheduler, length));
        Assert.Equal(expectedCycle, TestServers.PickSequence(scheduler, length)); // and it repeats
    }

    [Theory]
    [InlineData(new[] { 3, 1 })]
    [InlineData(new[] { 1, 2, 3, 4 })]
    [InlineData(new[] { 100, 30, 7 })]
    [InlineData(new[] { 10, 0, 10 })]
    public void Honours_weights_exactly_over_whole_cycles(int[] weights)
    {
        var scheduler = new WeightedRoundRobinScheduler(TestServers.WithWeights(weights));
        int cycles = 5;
        int cycle = weights.Sum() / weights.Aggregate(0, SmoothWeightedSequence.GreatestCommonDivisor);
        Assert.Equal(cycle, scheduler.CycleLength);

        Dictionary<string, int> tally = TestServers.Tally(scheduler, cycle * cycles);

        int divisor = weights.Sum() / cycle;
        for (int i = 0; i < weights.Length; i++)
        {
            Assert.Equal(weights[i] / divisor * cycles, tally[TestServers.Name(i)]);
        }
    }

    [Fact]
    public void Huge_weights_are_scaled_to_a_bounded_cycle_keeping_the_ratio()
    {
        var scheduler = new WeightedRoundRobinScheduler(TestServers.WithWeights(3_000_000, 1_000_001));
        Assert.InRange(scheduler.CycleLength, 1, SmoothWeightedSequence.DefaultMaxLength);
        Dictionary<string, int> tally = TestServers.Tally(scheduler, scheduler.CycleLength);
        Assert.InRange((double)tally["A"] / tally["B"], 2.99, 3.01);
    }

    [Fact]
    public void Unusable_pick_falls_to_the_next_usable_server()
    {
        var servers = TestServers.WithWeights(3, 1, 1);
        var scheduler = new WeightedRoundRobinScheduler(servers);
        Assert.Equal("B", scheduler.Pick(TestServers.Client(1), [servers[0]])?.Name); // A's turn, A excluded
        Assert.Null(scheduler.Pick(TestServers.Client(1), [.. servers]));
    }
}
