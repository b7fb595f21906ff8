using VipProxy.Config.Model;
using VipProxy.Forwarding.Tests.Support;

namespace VipProxy.Forwarding.Tests.Runtime;

/// <summary>Schedulers and persistence, observed end to end over real loopback sockets.</summary>
public class SchedulingThroughProxyTests
{
    [Fact]
    public async Task Round_robin_alternates_between_two_real_servers()
    {
        await using var a = LoopbackServer.IdEcho("A");
        await using var b = LoopbackServer.IdEcho("B");
        var (runtime, _, _) = await TestRuntime.StartAsync(TestConfigs.Virtual(SchedulingAlgorithm.RoundRobin,
            [TestConfigs.Real(a.Endpoint), TestConfigs.Real(b.Endpoint)]));
        await using (runtime)
        {
            var answers = new List<string?>();
            for (int i = 0; i < 8; i++)
            {
                answers.Add(await TestClient.WhoAnswersAsync(runtime.Address()));
            }

            Assert.Equal("A B A B A B A B", string.Join(' ', answers));
        }
    }

    [Fact]
    public async Task Weighted_round_robin_honours_weights()
    {
        await using var a = LoopbackServer.IdEcho("A");
        await using var b = LoopbackServer.IdEcho("B");
        var (runtime, _, _) = await TestRuntime.StartAsync(TestConfigs.Virtual(SchedulingAlgorithm.WeightedRoundRobin,
            [TestConfigs.Real(a.Endpoint, weight: 3), TestConfigs.Real(b.Endpoint, weight: 1)]));
        await using (runtime)
        {
            var answers = new List<string?>();
            for (int i = 0; i < 40; i++)
            {
                answers.Add(await TestClient.WhoAnswersAsync(runtime.Address()));
            }

            Assert.Equal(30, answers.Count(name => name == "A"));
            Assert.Equal(10, answers.Count(name => name == "B"));
        }
    }

    [Fact]
    public async Task A_misc_dynamic_weight_changes_the_share_of_new_connections_and_a_reload_restores_the_configured_one()
    {
        await using var a = LoopbackServer.IdEcho("A");
        await using var b = LoopbackServer.IdEcho("B");
        VirtualServer config = TestConfigs.Virtual(SchedulingAlgorithm.WeightedRoundRobin,
            [TestConfigs.Real(a.Endpoint, weight: 1), TestConfigs.Real(b.Endpoint, weight: 1)]);
        var (runtime, _, _) = await TestRuntime.StartAsync(config);
        await using (runtime)
        {
            async Task<(int A, int B)> CountAsync(int connections)
            {
                var answers = new List<string?>();
                for (int i = 0; i < connections; i++)
                {
                    answers.Add(await TestClient.WhoAnswersAsync(runtime.Address()));
                }

                return (answers.Count(n => n == "A"), answers.Count(n => n == "B"));
            }

            Assert.True(runtime.SetRealServerWeight(a.Endpoint, 3));
            Assert.Equal((30, 10), await CountAsync(40));
            Assert.Equal(3, runtime.GetStatus().Find(a.Endpoint)!.EffectiveWeight);

            // Weight 0 (script exit code 2): still up, but no new connections.
            Assert.True(runtime.SetRealServerWeight(a.Endpoint, 0));
            Assert.Equal((0, 8), await CountAsync(8));
            Assert.True(runtime.GetStatus().Find(a.Endpoint)!.Up);

            // A reload restarts the checkers from the configured weights, and so does the forwarder.
            runtime.ApplyConfig(config with { ProxyConnectTimeout = TimeSpan.FromSeconds(4) });
            Assert.Equal((4, 4), await CountAsync(8));
        }
    }

    [Theory]
    [InlineData(SchedulingAlgorithm.SourceHashing)]
    [InlineData(SchedulingAlgorithm.MaglevHashing)]
    public async Task Hash_schedulers_keep_each_client_on_one_server(SchedulingAlgorithm algorithm)
    {
        await using var a = LoopbackServer.IdEcho("A");
        await using var b = LoopbackServer.IdEcho("B");
        await using var c = LoopbackServer.IdEcho("C");
        var (runtime, _, _) = await TestRuntime.StartAsync(TestConfigs.Virtual(algorithm,
            [TestConfigs.Real(a.Endpoint), TestConfigs.Real(b.Endpoint), TestConfigs.Real(c.Endpoint)]));
        await using (runtime)
        {
            var serversSeen = new HashSet<string?>();
            for (int client = 1; client <= 12; client++)
            {
                string from = $"127.0.0.{client}";
                string? first = await TestClient.WhoAnswersAsync(runtime.Address(), from);
                for (int i = 0; i < 4; i++)
                {
                    Assert.Equal(first, await TestClient.WhoAnswersAsync(runtime.Address(), from));
                }

                serversSeen.Add(first);
            }

            // Twelve distinct clients over three servers: hashing spreads them (this is not a distribution test).
            Assert.True(serversSeen.Count >= 2, $"All clients went to {string.Join(",", serversSeen)}");
        }
    }

    [Fact]
    public async Task Persistence_keeps_a_client_on_its_server_while_round_robin_rotates_others()
    {
        await using var a = LoopbackServer.IdEcho("A");
        await using var b = LoopbackServer.IdEcho("B");
        var (runtime, _, _) = await TestRuntime.StartAsync(TestConfigs.Virtual(SchedulingAlgorithm.RoundRobin,
            [TestConfigs.Real(a.Endpoint), TestConfigs.Real(b.Endpoint)], persistenceTimeout: TimeSpan.FromMinutes(5)));
        await using (runtime)
        {
            string? sticky = await TestClient.WhoAnswersAsync(runtime.Address(), "127.0.0.1");
            for (int i = 0; i < 6; i++)
            {
                Assert.Equal(sticky, await TestClient.WhoAnswersAsync(runtime.Address(), "127.0.0.1"));
            }

            // Other clients still get both servers.
            var others = new HashSet<string?>();
            for (int client = 2; client <= 5; client++)
            {
                others.Add(await TestClient.WhoAnswersAsync(runtime.Address(), $"127.0.0.{client}"));
            }

            Assert.Equal(2, others.Count);
            Assert.Equal(5, runtime.GetStatus().PersistenceEntries);
        }
    }

    [Fact]
    public async Task Marking_a_server_down_drops_its_persistence_entries_at_once()
    {
        await using var a = LoopbackServer.IdEcho("A");
        await using var b = LoopbackServer.IdEcho("B");
        var (runtime, _, _) = await TestRuntime.StartAsync(TestConfigs.Virtual(SchedulingAlgorithm.RoundRobin,
            [TestConfigs.Real(a.Endpoint), TestConfigs.Real(b.Endpoint)], persistenceTimeout: TimeSpan.FromMinutes(5)));
        await using (runtime)
        {
            Assert.Equal("A", await TestClient.WhoAnswersAsync(runtime.Address()));
            Assert.Equal(1, runtime.GetStatus().PersistenceEntries);

            Assert.True(runtime.SetRealServerUp(a.Endpoint, false));
            Assert.Equal(0, runtime.GetStatus().PersistenceEntries);
            Assert.Equal("B", await TestClient.WhoAnswersAsync(runtime.Address()));

            // A comes back, but the client now sticks to B (its new entry), as LVS would after re-pointing.
            Assert.True(runtime.SetRealServerUp(a.Endpoint, true));
            Assert.Equal("B", await TestClient.WhoAnswersAsync(runtime.Address()));
        }
    }

    [Fact]
    public async Task Down_server_with_inhibit_on_failure_stays_listed_at_weight_zero()
    {
        await using var a = LoopbackServer.IdEcho("A");
        await using var b = LoopbackServer.IdEcho("B");
        var (runtime, _, _) = await TestRuntime.StartAsync(TestConfigs.Virtual(SchedulingAlgorithm.RoundRobin,
            [TestConfigs.Real(a.Endpoint, inhibitOnFailure: true), TestConfigs.Real(b.Endpoint)]));
        await using (runtime)
        {
            runtime.SetRealServerUp(a.Endpoint, false);
            for (int i = 0; i < 4; i++)
            {
                Assert.Equal("B", await TestClient.WhoAnswersAsync(runtime.Address()));
            }

            Assert.Equal(0, runtime.GetStatus().Find(a.Endpoint)!.EffectiveWeight);
        }
    }

    [Fact]
    public async Task ApplyConfig_changes_weights_without_cutting_established_connections()
    {
        await using var a = LoopbackServer.IdEcho("A");
        await using var b = LoopbackServer.IdEcho("B");
        VirtualServer config = TestConfigs.Virtual(SchedulingAlgorithm.WeightedRoundRobin,
            [TestConfigs.Real(a.Endpoint), TestConfigs.Real(b.Endpoint)]);
        var (runtime, _, _) = await TestRuntime.StartAsync(config);
        await using (runtime)
        {
            using var onA = await TestClient.ConnectAsync(runtime.Address());
            using var onB = await TestClient.ConnectAsync(runtime.Address());
            Assert.Equal("A", await TestClient.ReadLineAsync(onA));
            Assert.Equal("B", await TestClient.ReadLineAsync(onB));

            // B drains (weight 0): all new connections go to A; B's connection keeps working.
            runtime.ApplyConfig(config with { RealServers = ValueList.From([TestConfigs.Real(a.Endpoint), TestConfigs.Real(b.Endpoint, weight: 0)]) });
            for (int i = 0; i < 5; i++)
            {
                Assert.Equal("A", await TestClient.WhoAnswersAsync(runtime.Address()));
            }

            Assert.Equal("still here", await TestClient.EchoAsync(onB, "still here"));
            Assert.Equal("and here", await TestClient.EchoAsync(onA, "and here"));

            // B removed altogether: listed as draining while its connection lives, and it still works.
            runtime.ApplyConfig(config with { RealServers = ValueList.From([TestConfigs.Real(a.Endpoint)]) });
            Assert.True(runtime.GetStatus().Find(b.Endpoint)!.Draining);
            Assert.Equal("draining", await TestClient.EchoAsync(onB, "draining"));
            Assert.Equal("A", await TestClient.WhoAnswersAsync(runtime.Address()));
        }
    }
}
