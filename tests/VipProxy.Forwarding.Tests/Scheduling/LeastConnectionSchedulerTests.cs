using System.Net;
using VipProxy.Config.Model;
using VipProxy.Forwarding.Scheduling;

namespace VipProxy.Forwarding.Tests.Scheduling;

public class LeastConnectionSchedulerTests
{
    public static TheoryData<int[], (int Active, int Inactive)[], string?> LcCases => new()
    {
        // weights, (active, inactive) per server, expected pick
        { new[] { 1, 1 }, new[] { (2, 0), (1, 0) }, "B" },
        { new[] { 1, 1 }, new[] { (1, 0), (1, 0) }, "A" }, // tie: first, as LVS
        { new[] { 1, 1 }, new[] { (1, 0), (1, 5) }, "A" }, // inactive only breaks ties
        { new[] { 1, 1 }, new[] { (1, 300), (2, 0) }, "B" }, // 1×256+300 > 2×256
        { new[] { 9, 1 }, new[] { (2, 0), (1, 0) }, "B" }, // lc ignores weights
        { new[] { 1, 0 }, new[] { (5, 0), (0, 0) }, "A" }, // weight 0 drains
        { new[] { 0, 0 }, new[] { (0, 0), (0, 0) }, null },
    };

    public static TheoryData<int[], (int Active, int Inactive)[], string?> WlcCases => new()
    {
        { new[] { 3, 1 }, new[] { (3, 0), (2, 0) }, "A" }, // 768/3 < 512/1
        { new[] { 3, 1 }, new[] { (3, 0), (1, 0) }, "A" }, // 768/3 == 256/1: tie → first
        { new[] { 1, 3 }, new[] { (3, 0), (1, 0) }, "B" },
        { new[] { 2, 2 }, new[] { (1, 1), (1, 0) }, "B" },
        { new[] { 1, 0 }, new[] { (9, 0), (0, 0) }, "A" },
        { new[] { 0, 0 }, new[] { (0, 0), (0, 0) }, null },
    };

    [Theory]
    [MemberData(nameof(LcCases))]
    public void Lc_picks_the_least_loaded(int[] weights, (int Active, int Inactive)[] load, string? expected) =>
        Assert.Equal(expected, PickWithLoad(SchedulingAlgorithm.LeastConnection, weights, load));

    [Theory]
    [MemberData(nameof(WlcCases))]
    public void Wlc_picks_the_least_loaded_per_weight(int[] weights, (int Active, int Inactive)[] load, string? expected) =>
        Assert.Equal(expected, PickWithLoad(SchedulingAlgorithm.WeightedLeastConnection, weights, load));

    [Theory]
    [InlineData(SchedulingAlgorithm.LeastConnection, new[] { 3, 1 }, 400, new[] { 200, 200 })]
    [InlineData(SchedulingAlgorithm.WeightedLeastConnection, new[] { 3, 1 }, 400, new[] { 300, 100 })]
    [InlineData(SchedulingAlgorithm.WeightedLeastConnection, new[] { 1, 2, 5 }, 800, new[] { 100, 200, 500 })]
    public void Long_lived_connections_fill_servers_by_policy(SchedulingAlgorithm algorithm, int[] weights, int connections, int[] expected)
    {
        var servers = TestServers.WithWeights(weights);
        IScheduler scheduler = SchedulerFactory.Create(algorithm, servers);
        for (int i = 0; i < connections; i++)
        {
            scheduler.Pick(IPAddress.Loopback)!.Counters.ConnectionOpened();
        }

        Assert.Equal(expected, servers.Select(s => (int)s.Counters.Active));
    }

    [Fact]
    public void Closing_connections_makes_a_server_least_loaded_again()
    {
        var servers = TestServers.WithWeights(1, 1);
        var scheduler = new LeastConnectionScheduler(servers);
        TestServers.Open(servers[0], active: 2);
        TestServers.Open(servers[1], active: 1);
        Assert.Equal("B", scheduler.Pick(IPAddress.Loopback)?.Name);

        servers[0].Counters.ConnectionClosed(wasInactive: false);
        servers[0].Counters.ConnectionClosed(wasInactive: false);
        Assert.Equal("A", scheduler.Pick(IPAddress.Loopback)?.Name);
    }

    [Fact]
    public void Excluded_and_overloaded_servers_are_skipped()
    {
        var servers = System.Collections.Immutable.ImmutableArray.Create(TestServers.Server(0, 1, maxConnections: 2), TestServers.Server(1, 1), TestServers.Server(2, 1));
        var scheduler = new WeightedLeastConnectionScheduler(servers);
        TestServers.Open(servers[1], active: 5);
        TestServers.Open(servers[2], active: 6);
        Assert.Equal("A", scheduler.Pick(IPAddress.Loopback)?.Name);
        Assert.Equal("B", scheduler.Pick(IPAddress.Loopback, [servers[0]])?.Name);

        TestServers.Open(servers[0], active: 2); // at its limit
        Assert.Equal("B", scheduler.Pick(IPAddress.Loopback)?.Name);
    }

    private static string? PickWithLoad(SchedulingAlgorithm algorithm, int[] weights, (int Active, int Inactive)[] load)
    {
        var servers = TestServers.WithWeights(weights);
        for (int i = 0; i < servers.Length; i++)
        {
            TestServers.Open(servers[i], load[i].Active, load[i].Inactive);
        }

        return SchedulerFactory.Create(algorithm, servers).Pick(IPAddress.Loopback)?.Name;
    }
}
