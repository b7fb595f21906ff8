using System.Net.Sockets;
using VipProxy.Config.Model;
using VipProxy.Forwarding.Relay;
using VipProxy.Forwarding.Runtime;
using VipProxy.Forwarding.Tests.Support;

namespace VipProxy.Forwarding.Tests.Runtime;

/// <summary><c>backup</c> real servers (HAProxy's backup), observed over real loopback sockets.</summary>
public class BackupServerTests
{
    private static async Task<string> AnswersAsync(VirtualServerRuntime runtime, int connections)
    {
        var names = new List<string?>();
        for (int i = 0; i < connections; i++)
        {
            names.Add(await RedispatchTests.WhoAnswersOrNullAsync(runtime) ?? "-");
        }

        return string.Join(' ', names);
    }

    [Theory]
    [InlineData(SchedulingAlgorithm.RoundRobin)]
    [InlineData(SchedulingAlgorithm.WeightedLeastConnection)]
    [InlineData(SchedulingAlgorithm.WeightedFailover)]
    public async Task Backups_get_nothing_while_a_primary_is_up_and_everything_when_all_primaries_are_down(SchedulingAlgorithm algorithm)
    {
        await using var a = LoopbackServer.IdEcho("A");
        await using var b = LoopbackServer.IdEcho("B");
        await using var c = LoopbackServer.IdEcho("C");
        // The backup has the highest weight: weight alone must not let it in (fo would otherwise pick it).
        var (runtime, _, _) = await TestRuntime.StartAsync(TestConfigs.Virtual(algorithm,
            [TestConfigs.Real(a.Endpoint), TestConfigs.Real(b.Endpoint), TestConfigs.Real(c.Endpoint, weight: 9, backup: true)]));
        await using (runtime)
        {
            Assert.DoesNotContain("C", await AnswersAsync(runtime, 8), StringComparison.Ordinal);
            RealServerTrafficStatus standby = runtime.GetStatus().Find(c.Endpoint)!;
            Assert.True(standby is { Backup: true, StandingBy: true, EffectiveWeight: null });

            runtime.SetRealServerUp(a.Endpoint, false);
            Assert.Equal("B B B B", await AnswersAsync(runtime, 4));

            runtime.SetRealServerUp(b.Endpoint, false);
            Assert.Equal("C C C C", await AnswersAsync(runtime, 4));
            Assert.True(runtime.GetStatus().Find(c.Endpoint) is { StandingBy: false, EffectiveWeight: 9 });

            // One primary back: the backup stands by again.
            runtime.SetRealServerUp(a.Endpoint, true);
            Assert.Equal("A A A A", await AnswersAsync(runtime, 4));
            Assert.Equal(4, c.AcceptCount);
        }
    }

    [Fact]
    public async Task Backups_share_by_the_algorithm_and_a_primary_at_weight_0_counts_as_unavailable()
    {
        await using var a = LoopbackServer.IdEcho("A");
        await using var b = LoopbackServer.IdEcho("B");
        await using var c = LoopbackServer.IdEcho("C");
        var (runtime, _, _) = await TestRuntime.StartAsync(TestConfigs.Virtual(SchedulingAlgorithm.RoundRobin,
            [TestConfigs.Real(a.Endpoint), TestConfigs.Real(b.Endpoint, backup: true), TestConfigs.Real(c.Endpoint, backup: true)]));
        await using (runtime)
        {
            Assert.Equal("A A A A", await AnswersAsync(runtime, 4));

            // Drained by a misc_dynamic weight of 0: up, but takes no new connection, so the backups serve.
            runtime.SetRealServerWeight(a.Endpoint, 0);
            Assert.Equal("B C B C", await AnswersAsync(runtime, 4));

            runtime.SetRealServerWeight(a.Endpoint, 1);
            Assert.Equal("A A", await AnswersAsync(runtime, 2));
        }
    }

    [Fact]
    public async Task A_full_primary_does_not_overflow_to_the_backup()
    {
        await using var a = LoopbackServer.IdEcho("A");
        await using var b = LoopbackServer.IdEcho("B");
        var (runtime, _, _) = await TestRuntime.StartAsync(TestConfigs.Virtual(SchedulingAlgorithm.RoundRobin,
            [TestConfigs.Real(a.Endpoint, maxConnections: 1), TestConfigs.Real(b.Endpoint, backup: true)]));
        await using (runtime)
        {
            using Socket held = await TestClient.ConnectAsync(runtime.Address());
            Assert.Equal("A", await TestClient.ReadLineAsync(held));

            // The primary is up but at its maxconn: the standby must not take its writes.
            Assert.Null(await RedispatchTests.WhoAnswersOrNullAsync(runtime));
            await Eventually.TrueAsync(() => runtime.GetStatus().CountOf(CloseReason.RealServerFull) == 1, TestClient.Deadline);
            Assert.Equal(0, b.AcceptCount);
        }
    }

    [Fact]
    public async Task A_persistent_client_of_the_backup_returns_to_the_primary_when_it_comes_back()
    {
        await using var a = LoopbackServer.IdEcho("A");
        await using var b = LoopbackServer.IdEcho("B");
        var (runtime, _, _) = await TestRuntime.StartAsync(TestConfigs.Virtual(SchedulingAlgorithm.RoundRobin,
            [TestConfigs.Real(a.Endpoint), TestConfigs.Real(b.Endpoint, backup: true)], persistenceTimeout: TimeSpan.FromMinutes(5)));
        await using (runtime)
        {
            runtime.SetRealServerUp(a.Endpoint, false);
            Assert.Equal("B B", await AnswersAsync(runtime, 2));

            runtime.SetRealServerUp(a.Endpoint, true);
            Assert.Equal("A A", await AnswersAsync(runtime, 2));
        }
    }
}
