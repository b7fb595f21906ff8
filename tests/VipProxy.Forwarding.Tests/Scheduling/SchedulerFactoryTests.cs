using System.Net;
using VipProxy.Config.Model;
using VipProxy.Forwarding.Scheduling;

namespace VipProxy.Forwarding.Tests.Scheduling;

/// <remarks>Runs alone: <see cref="GC.GetAllocatedBytesForCurrentThread"/> can see tier-up work when the socket tests
/// run in parallel and keep the JIT busy.</remarks>
[Collection(VipProxy.Forwarding.Tests.Support.TimingCollection.Name)]
public class SchedulerFactoryTests
{
    [Theory]
    [InlineData("rr", SchedulingAlgorithm.RoundRobin, typeof(RoundRobinScheduler))]
    [InlineData("wrr", SchedulingAlgorithm.WeightedRoundRobin, typeof(WeightedRoundRobinScheduler))]
    [InlineData("lc", SchedulingAlgorithm.LeastConnection, typeof(LeastConnectionScheduler))]
    [InlineData("WLC", SchedulingAlgorithm.WeightedLeastConnection, typeof(WeightedLeastConnectionScheduler))]
    [InlineData("sh", SchedulingAlgorithm.SourceHashing, typeof(SourceHashScheduler))]
    [InlineData(" mh ", SchedulingAlgorithm.MaglevHashing, typeof(MaglevScheduler))]
    [InlineData("fo", SchedulingAlgorithm.WeightedFailover, typeof(WeightedFailoverScheduler))]
    public void Lb_algo_names_map_to_schedulers(string name, SchedulingAlgorithm algorithm, Type type)
    {
        Assert.True(SchedulingAlgorithmNames.TryParse(name, out SchedulingAlgorithm parsed));
        Assert.Equal(algorithm, parsed);
        Assert.Equal(name.Trim().ToLowerInvariant(), parsed.ToLbAlgoName());

        IScheduler scheduler = SchedulerFactory.Create(parsed, TestServers.WithWeights(1, 1));
        Assert.IsType(type, scheduler);
        Assert.Equal(algorithm, scheduler.Algorithm);
    }

    [Theory]
    [InlineData("lblc")]
    [InlineData("dh")]
    [InlineData("")]
    [InlineData(null)]
    public void Unsupported_names_are_rejected(string? name) =>
        Assert.False(SchedulingAlgorithmNames.TryParse(name, out _));

    [Fact]
    public void Duplicate_server_names_are_rejected()
    {
        var server = TestServers.Server(0, 1);
        foreach (SchedulingAlgorithm algorithm in Enum.GetValues<SchedulingAlgorithm>())
        {
            Assert.Throws<ArgumentException>(() => SchedulerFactory.Create(algorithm, [server, server.WithWeight(2)]));
        }
    }

    [Fact]
    public void WithWeight_keeps_identity_and_live_counters()
    {
        var server = TestServers.Server(0, 3);
        server.Counters.ConnectionOpened();
        RealServerSnapshot drained = server.WithWeight(0);
        Assert.Same(server.Counters, drained.Counters);
        Assert.Equal(server.Name, drained.Name);
        Assert.False(drained.AcceptsNewConnections);
        Assert.Same(server, server.WithWeight(3));
        Assert.Equal("10.0.0.1:3306", new RealServerSnapshot(new IPEndPoint(IPAddress.Parse("10.0.0.1"), 3306), 1).Name);
    }

    [Fact]
    public void Counters_track_active_inactive_and_total()
    {
        var counters = new ConnectionCounters();
        counters.ConnectionOpened();
        counters.ConnectionOpened();
        counters.ConnectionBecameInactive();
        Assert.Equal((1L, 1L, 2L, 2L), (counters.Active, counters.Inactive, counters.Open, counters.Total));
        counters.ConnectionClosed(wasInactive: true);
        counters.ConnectionClosed(wasInactive: false);
        Assert.Equal((0L, 0L, 0L, 2L), (counters.Active, counters.Inactive, counters.Open, counters.Total));
    }

    [Theory]
    [InlineData(SchedulingAlgorithm.RoundRobin)]
    [InlineData(SchedulingAlgorithm.WeightedRoundRobin)]
    [InlineData(SchedulingAlgorithm.LeastConnection)]
    [InlineData(SchedulingAlgorithm.WeightedLeastConnection)]
    [InlineData(SchedulingAlgorithm.SourceHashing)]
    [InlineData(SchedulingAlgorithm.MaglevHashing)]
    [InlineData(SchedulingAlgorithm.WeightedFailover)]
    public void Picks_do_not_allocate(SchedulingAlgorithm algorithm)
    {
        var servers = TestServers.WithWeights(3, 1, 2);
        IScheduler scheduler = SchedulerFactory.Create(algorithm, servers);
        IPAddress[] clients = [.. Enumerable.Range(0, 64).Select(TestServers.Client), IPAddress.Parse("2001:db8::1")];
        RealServerSnapshot[] excluded = [servers[0]];
        for (int i = 0; i < 200; i++)
        {
            Pick(i); // warm up (tiered JIT)
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 10_000; i++)
        {
            Pick(i);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);

        void Pick(int i)
        {
            Assert.NotNull(scheduler.Pick(clients[i % clients.Length]));
            Assert.NotNull(scheduler.Pick(clients[i % clients.Length], excluded));
        }
    }
}
