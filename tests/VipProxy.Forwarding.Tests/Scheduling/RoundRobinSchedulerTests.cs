using System.Collections.Immutable;
using System.Net;
using VipProxy.Forwarding.Scheduling;

namespace VipProxy.Forwarding.Tests.Scheduling;

public class RoundRobinSchedulerTests
{
    [Theory]
    [InlineData(new[] { 1, 1 }, "A B A B A B")]
    [InlineData(new[] { 5, 1 }, "A B A B A B")] // rr ignores weights above 0
    [InlineData(new[] { 1, 0, 1 }, "A C A C A C")] // weight 0 drains without giving C double turns
    [InlineData(new[] { 1, 1, 1 }, "A B C A B C")]
    [InlineData(new[] { 0, 0 }, "- - -")]
    [InlineData(new int[0], "- - -")]
    public void Picks_in_turn(int[] weights, string expected)
    {
        var scheduler = new RoundRobinScheduler(TestServers.WithWeights(weights));
        Assert.Equal(expected, TestServers.PickSequence(scheduler, expected.Split(' ').Length));
    }

    [Fact]
    public void Skips_excluded_and_overloaded_servers()
    {
        ImmutableArray<RealServerSnapshot> servers = [TestServers.Server(0, 1), TestServers.Server(1, 1, maxConnections: 1), TestServers.Server(2, 1)];
        var scheduler = new RoundRobinScheduler(servers);
        TestServers.Open(servers[1], active: 1);

        Assert.Equal("A C C A C C", TestServers.PickSequence(scheduler, 6));
        Assert.Equal("C", scheduler.Pick(IPAddress.Loopback, [servers[0]])?.Name);
        Assert.Null(scheduler.Pick(IPAddress.Loopback, [servers[0], servers[2]]));
    }

    [Fact]
    public void Concurrent_picks_are_exactly_balanced()
    {
        var scheduler = new RoundRobinScheduler(TestServers.WithWeights(1, 1, 1, 1));
        var counts = new int[4];
        Parallel.For(0, 40_000, _ => Interlocked.Increment(ref counts[scheduler.Pick(IPAddress.Loopback)!.Name[0] - 'A']));
        Assert.All(counts, count => Assert.Equal(10_000, count));
    }
}
