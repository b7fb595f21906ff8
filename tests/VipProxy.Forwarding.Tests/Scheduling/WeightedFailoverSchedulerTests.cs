using VipProxy.Config.Model;
using VipProxy.Forwarding.Scheduling;

namespace VipProxy.Forwarding.Tests.Scheduling;

public class WeightedFailoverSchedulerTests
{
    [Theory]
    [InlineData(new[] { 1, 5, 3 }, "B B B B")]
    [InlineData(new[] { 2, 7, 7 }, "B B B")] // a tie goes to the first in configuration order
    [InlineData(new[] { 4 }, "A A")]
    [InlineData(new[] { 0, 0 }, "-")]
    public void Every_connection_goes_to_the_highest_weight(int[] weights, string expected)
    {
        var scheduler = new WeightedFailoverScheduler(TestServers.WithWeights(weights));
        Assert.Equal(SchedulingAlgorithm.WeightedFailover, scheduler.Algorithm);
        Assert.Equal(expected, TestServers.PickSequence(scheduler, expected.Split(' ').Length));
    }

    [Fact]
    public void Moves_to_the_next_highest_when_the_first_goes_down()
    {
        var servers = TestServers.WithWeights(1, 5, 3);
        // Down: the runtime leaves the server out of the next snapshot.
        var withoutB = new WeightedFailoverScheduler([servers[0], servers[2]]);
        Assert.Equal("C C C", TestServers.PickSequence(withoutB, 3));
        var onlyA = new WeightedFailoverScheduler([servers[0]]);
        Assert.Equal("A A", TestServers.PickSequence(onlyA, 2));
        Assert.Equal("-", TestServers.PickSequence(new WeightedFailoverScheduler([]), 1));
    }

    [Fact]
    public void Moves_to_the_next_highest_when_its_weight_becomes_0()
    {
        var servers = TestServers.WithWeights(1, 5, 3);
        // inhibit_on_failure (or a drain) keeps the server in the snapshot at weight 0.
        var inhibited = new WeightedFailoverScheduler([servers[0], servers[1].WithWeight(0), servers[2]]);
        Assert.Equal("C C C", TestServers.PickSequence(inhibited, 3));

        // Back at its weight, it takes every new connection again.
        var restored = new WeightedFailoverScheduler([servers[0], servers[1], servers[2]]);
        Assert.Equal("B B", TestServers.PickSequence(restored, 2));
    }

    [Fact]
    public void An_overloaded_or_tried_server_passes_to_the_next_in_weight_order()
    {
        var servers = TestServers.WithWeights(1, 5, 3);
        var limited = new[] { servers[0], TestServers.Server(1, 5, maxConnections: 1), servers[2] };
        var scheduler = new WeightedFailoverScheduler([.. limited]);
        TestServers.Open(limited[1], active: 1);
        Assert.Equal("C", scheduler.Pick(TestServers.Client(1))?.Name);

        var redispatch = new WeightedFailoverScheduler(servers);
        Assert.Equal("C", redispatch.Pick(TestServers.Client(1), [servers[1]])?.Name);
        Assert.Equal("A", redispatch.Pick(TestServers.Client(1), [servers[1], servers[2]])?.Name);
        Assert.Null(redispatch.Pick(TestServers.Client(1), [.. servers]));
    }
}
