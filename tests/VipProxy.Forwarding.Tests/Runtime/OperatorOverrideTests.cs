using System.Net.Sockets;
using VipProxy.Config.Model;
using VipProxy.Forwarding.Runtime;
using VipProxy.Forwarding.Tests.Support;

namespace VipProxy.Forwarding.Tests.Runtime;

/// <summary>The operator's drain, disable and runtime weight: the pure merge with the health verdict, and what the
/// runtime does with it (new connections only; established ones continue).</summary>
public class OperatorOverrideTests
{
    private static readonly RealServerOperatorState Drain = new(OperatorMode.Drain, null);
    private static readonly RealServerOperatorState Disable = new(OperatorMode.Disable, null);

    public static TheoryData<bool, bool, bool, int, int?, RealServerOperatorState, int?> Cases => new()
    {
        // removed, up, inhibit, configured, dynamic, operator => effective
        { false, true, false, 3, null, RealServerOperatorState.None, 3 },
        { false, true, false, 3, 7, RealServerOperatorState.None, 7 },
        { false, false, false, 3, null, RealServerOperatorState.None, null },
        { false, false, true, 3, null, RealServerOperatorState.None, 0 },
        { false, true, false, 3, null, Drain, null },
        { false, true, false, 3, null, Disable, null },
        { false, false, true, 3, null, Drain, null },              // inhibit keeps a down server at 0, not a drained one
        { false, true, false, 3, 7, new(OperatorMode.None, 5), 5 },   // the operator's weight beats misc_dynamic
        { false, true, false, 3, null, new(OperatorMode.None, 0), 0 },
        { false, false, false, 3, null, new(OperatorMode.None, 5), null }, // a weight never brings a down server back
        { false, true, false, 3, null, new(OperatorMode.Drain, 5), null },
        { true, true, false, 3, null, RealServerOperatorState.None, null },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void The_scheduled_weight_merges_reload_health_dynamic_weight_and_operator(
        bool removed, bool up, bool inhibit, int configured, int? dynamic, RealServerOperatorState operatorState, int? expected) =>
        Assert.Equal(expected, RealServerWeightRules.Effective(removed, up, inhibit, configured, dynamic, operatorState));

    [Fact]
    public async Task Drain_sends_new_connections_elsewhere_while_the_established_one_keeps_working_and_enable_brings_it_back()
    {
        await using var a = LoopbackServer.IdEcho("A");
        await using var b = LoopbackServer.IdEcho("B");
        VirtualServer config = TestConfigs.Virtual(SchedulingAlgorithm.RoundRobin, [TestConfigs.Real(a.Endpoint), TestConfigs.Real(b.Endpoint)],
            persistenceTimeout: TimeSpan.FromMinutes(5));
        var (runtime, _, _) = await TestRuntime.StartAsync(config);
        await using (runtime)
        {
            using Socket established = await TestClient.ConnectAsync(runtime.Address());
            string first = (await TestClient.ReadLineAsync(established))!;
            var drained = first == "A" ? a : b;
            Assert.Equal(1, runtime.GetStatus().PersistenceEntries);

            Assert.True(runtime.SetOperatorState(drained.Endpoint, Drain));
            // The persistence entry that pinned this client to the drained server is gone, so it moves at once.
            Assert.Equal(0, runtime.GetStatus().PersistenceEntries);
            for (int i = 0; i < 6; i++)
            {
                Assert.NotEqual(first, await TestClient.WhoAnswersAsync(runtime.Address()));
            }

            Assert.Equal("still here", await TestClient.EchoAsync(established, "still here"));
            RealServerTrafficStatus status = runtime.GetStatus().Find(drained.Endpoint)!;
            Assert.Equal((Drain, (int?)null, 1L), (status.Operator, status.EffectiveWeight, status.ActiveConnections));

            // A reload that changes the configured weight keeps the drain.
            runtime.ApplyConfig(config with
            {
                RealServers = ValueList.From(config.RealServers.Select(r => r.Endpoint.Equals(drained.Endpoint) ? r with { Weight = 5 } : r)),
            });
            Assert.Equal(Drain, runtime.GetStatus().Find(drained.Endpoint)!.Operator);
            Assert.NotEqual(first, await TestClient.WhoAnswersAsync(runtime.Address()));

            Assert.True(runtime.SetOperatorState(drained.Endpoint, RealServerOperatorState.None));
            Assert.Equal(5, runtime.GetStatus().Find(drained.Endpoint)!.EffectiveWeight);
            Assert.False(runtime.SetOperatorState(TestConfigs.DeadEndpoint(), Drain));
        }
    }

    [Fact]
    public async Task A_runtime_weight_of_zero_stops_new_connections_and_a_weight_shifts_the_share()
    {
        await using var a = LoopbackServer.IdEcho("A");
        await using var b = LoopbackServer.IdEcho("B");
        var (runtime, _, _) = await TestRuntime.StartAsync(TestConfigs.Virtual(SchedulingAlgorithm.WeightedRoundRobin,
            [TestConfigs.Real(a.Endpoint), TestConfigs.Real(b.Endpoint)]));
        await using (runtime)
        {
            Assert.True(runtime.SetOperatorState(a.Endpoint, new RealServerOperatorState(OperatorMode.None, 0)));
            for (int i = 0; i < 4; i++)
            {
                Assert.Equal("B", await TestClient.WhoAnswersAsync(runtime.Address()));
            }

            Assert.True(runtime.SetOperatorState(a.Endpoint, new RealServerOperatorState(OperatorMode.None, 3)));
            var answers = new List<string?>();
            for (int i = 0; i < 8; i++)
            {
                answers.Add(await TestClient.WhoAnswersAsync(runtime.Address()));
            }

            Assert.Equal(6, answers.Count(name => name == "A"));
            Assert.Throws<ArgumentOutOfRangeException>(() => runtime.SetOperatorState(a.Endpoint, new RealServerOperatorState(OperatorMode.None, 65536)));
            Assert.Equal(3, runtime.GetStatus().Find(a.Endpoint)!.EffectiveWeight);
        }
    }
}
