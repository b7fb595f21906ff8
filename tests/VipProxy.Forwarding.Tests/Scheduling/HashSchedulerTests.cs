using System.Collections.Immutable;
using System.Net;
using VipProxy.Config.Model;
using VipProxy.Forwarding.Scheduling;

namespace VipProxy.Forwarding.Tests.Scheduling;

/// <summary>Behaviour shared by the source-hashing schedulers, sh and mh.</summary>
public class HashSchedulerTests
{
    public static TheoryData<SchedulingAlgorithm> HashAlgorithms =>
        [SchedulingAlgorithm.SourceHashing, SchedulingAlgorithm.MaglevHashing];

    [Theory]
    [MemberData(nameof(HashAlgorithms))]
    public void A_client_always_gets_the_same_server(SchedulingAlgorithm algorithm)
    {
        IScheduler scheduler = SchedulerFactory.Create(algorithm, TestServers.WithWeights(1, 1, 1, 1));
        for (int client = 0; client < 500; client++)
        {
            string? first = scheduler.Pick(TestServers.Client(client))?.Name;
            for (int repeat = 0; repeat < 5; repeat++)
            {
                Assert.Equal(first, scheduler.Pick(TestServers.Client(client))?.Name);
            }

            // A rebuilt scheduler over the same snapshot agrees: nothing depends on the process or on history.
            Assert.Equal(first, SchedulerFactory.Create(algorithm, TestServers.WithWeights(1, 1, 1, 1)).Pick(TestServers.Client(client))?.Name);
        }
    }

    [Theory]
    [MemberData(nameof(HashAlgorithms))]
    public void IPv4_and_IPv4_mapped_IPv6_are_the_same_client(SchedulingAlgorithm algorithm)
    {
        IScheduler scheduler = SchedulerFactory.Create(algorithm, TestServers.WithWeights(1, 1, 1, 1, 1));
        for (int client = 0; client < 100; client++)
        {
            IPAddress v4 = TestServers.Client(client);
            Assert.Equal(scheduler.Pick(v4), scheduler.Pick(v4.MapToIPv6()));
        }
    }

    [Theory]
    [InlineData(SchedulingAlgorithm.SourceHashing, new[] { 1, 1, 1, 1 })]
    [InlineData(SchedulingAlgorithm.SourceHashing, new[] { 3, 1 })]
    [InlineData(SchedulingAlgorithm.SourceHashing, new[] { 100, 100, 100 })] // LVS's 256 buckets would give 100:100:56
    [InlineData(SchedulingAlgorithm.MaglevHashing, new[] { 1, 1, 1, 1 })]
    [InlineData(SchedulingAlgorithm.MaglevHashing, new[] { 3, 1 })]
    [InlineData(SchedulingAlgorithm.MaglevHashing, new[] { 1, 2, 3, 0 })]
    public void Clients_spread_across_servers_by_weight(SchedulingAlgorithm algorithm, int[] weights)
    {
        const int Clients = 40_000;
        IScheduler scheduler = SchedulerFactory.Create(algorithm, TestServers.WithWeights(weights));
        Dictionary<string, int> tally = TestServers.Tally(scheduler, Clients, TestServers.Client);

        for (int i = 0; i < weights.Length; i++)
        {
            double expected = (double)weights[i] / weights.Sum();
            Assert.InRange((double)tally[TestServers.Name(i)] / Clients, expected - 0.02, expected + 0.02);
        }
    }

    [Theory]
    [MemberData(nameof(HashAlgorithms))]
    public void Unusable_server_falls_back_deterministically_and_only_for_its_clients(SchedulingAlgorithm algorithm)
    {
        ImmutableArray<RealServerSnapshot> servers = [TestServers.Server(0, 1), TestServers.Server(1, 1, maxConnections: 1), TestServers.Server(2, 1)];
        IScheduler scheduler = SchedulerFactory.Create(algorithm, servers);
        var before = Enumerable.Range(0, 300).Select(c => scheduler.Pick(TestServers.Client(c))!.Name).ToArray();

        TestServers.Open(servers[1], active: 1); // B overloaded
        for (int client = 0; client < 300; client++)
        {
            string? now = scheduler.Pick(TestServers.Client(client))?.Name;
            Assert.NotEqual("B", now);
            if (before[client] != "B")
            {
                Assert.Equal(before[client], now);
            }

            Assert.Equal(now, scheduler.Pick(TestServers.Client(client))?.Name);
            Assert.NotEqual(now, scheduler.Pick(TestServers.Client(client), [servers[0], servers[2]])?.Name ?? now + "!");
        }
    }

    [Theory]
    [MemberData(nameof(HashAlgorithms))]
    public void Weight_zero_is_never_chosen_and_nothing_usable_gives_no_server(SchedulingAlgorithm algorithm)
    {
        IScheduler drained = SchedulerFactory.Create(algorithm, TestServers.WithWeights(1, 0, 1));
        Assert.Equal(0, TestServers.Tally(drained, 5_000, TestServers.Client)["B"]);

        Assert.Null(SchedulerFactory.Create(algorithm, TestServers.WithWeights(0, 0)).Pick(TestServers.Client(1)));
        Assert.Null(SchedulerFactory.Create(algorithm, []).Pick(TestServers.Client(1)));
        var one = TestServers.WithWeights(1);
        Assert.Null(SchedulerFactory.Create(algorithm, one).Pick(TestServers.Client(1), [one[0]]));
    }
}
