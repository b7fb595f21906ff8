using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Time.Testing;
using VipProxy.Config.Model;
using VipProxy.Forwarding.Relay;
using VipProxy.Forwarding.Runtime;
using VipProxy.Forwarding.Tests.Support;

namespace VipProxy.Forwarding.Tests.Runtime;

/// <summary>A failed connect holds the real server down for new clients until a health check or the hold-down
/// ends it.</summary>
public class SuspectTests
{
    [Fact]
    public async Task A_refusing_server_gets_no_client_after_its_first_failure_until_the_hold_down_expires()
    {
        var clock = new FakeTimeProvider();
        await using var live = LoopbackServer.IdEcho("live");
        IPEndPoint dead = TestConfigs.DeadEndpoint();
        var (runtime, log, sink) = await TestRuntime.StartAsync(
            TestConfigs.Virtual(SchedulingAlgorithm.RoundRobin, [TestConfigs.Real(dead), TestConfigs.Real(live.Endpoint)]),
            timeProvider: clock);
        await using (runtime)
        {
            for (int i = 0; i < 10; i++)
            {
                Assert.Equal("live", await TestClient.WhoAnswersAsync(runtime.Address()));
            }

            // One failure in all: every client after it went straight to the live server.
            Assert.Single(sink.Failures);
            RealServerTrafficStatus suspect = runtime.GetStatus().Find(dead)!;
            Assert.True(suspect.Suspect);
            Assert.True(suspect.HeldDown);
            Assert.True(suspect.Up);
            Assert.Null(suspect.EffectiveWeight);
            Assert.Equal(TimeSpan.FromSeconds(10), suspect.SuspectRemaining); // min(delay_loop 60 s, 10 s)
            Assert.Single(log.Lines, line => line.StartsWith("1010 ", StringComparison.Ordinal));

            // Not before the hold-down ends.
            clock.Advance(TimeSpan.FromSeconds(9.5));
            for (int i = 0; i < 6; i++)
            {
                Assert.Equal("live", await TestClient.WhoAnswersAsync(runtime.Address()));
            }

            Assert.Single(sink.Failures);

            // After it: the server is scheduled again, fails once more, and is held down again. Clients never notice.
            clock.Advance(TimeSpan.FromSeconds(0.5));
            Assert.False(runtime.GetStatus().Find(dead)!.Suspect);
            for (int i = 0; i < 6; i++)
            {
                Assert.Equal("live", await TestClient.WhoAnswersAsync(runtime.Address()));
            }

            Assert.Equal(2, sink.Failures.Count);
            Assert.True(runtime.GetStatus().Find(dead)!.HeldDown);
            Assert.Equal(2, log.Lines.Count(line => line.StartsWith("1010 ", StringComparison.Ordinal)));
            await Eventually.TrueAsync(() => log.Finished.Count == 22, TestClient.Deadline);
            Assert.All(log.Finished, finished => Assert.Equal(live.Endpoint.ToString(), finished.RealServer));
        }
    }

    [Fact]
    public async Task A_health_report_of_up_ends_the_suspicion_at_once()
    {
        var clock = new FakeTimeProvider();
        await using var live = LoopbackServer.IdEcho("live");
        IPEndPoint dead = TestConfigs.DeadEndpoint();
        var (runtime, _, sink) = await TestRuntime.StartAsync(
            TestConfigs.Virtual(SchedulingAlgorithm.RoundRobin, [TestConfigs.Real(dead), TestConfigs.Real(live.Endpoint)]),
            timeProvider: clock);
        await using (runtime)
        {
            Assert.Equal("live", await TestClient.WhoAnswersAsync(runtime.Address()));
            Assert.Equal("live", await TestClient.WhoAnswersAsync(runtime.Address()));
            Assert.True(runtime.GetStatus().Find(dead)!.Suspect);

            // The server came back and the checker says so: it is scheduled again without waiting for the hold-down.
            await using var back = LoopbackServer.IdEcho("back", port: dead.Port);
            Assert.True(runtime.SetRealServerUp(dead, true));
            RealServerTrafficStatus status = runtime.GetStatus().Find(dead)!;
            Assert.False(status.Suspect);
            Assert.Equal(1, status.EffectiveWeight);
            string?[] answers = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => TestClient.WhoAnswersAsync(runtime.Address())));
            Assert.Contains("back", answers);
            Assert.Single(sink.Failures);
        }
    }

    [Fact]
    public async Task When_every_server_is_suspect_they_are_all_tried_again()
    {
        var clock = new FakeTimeProvider();
        IPEndPoint only = TestConfigs.DeadEndpoint();
        var (runtime, log, sink) = await TestRuntime.StartAsync(
            TestConfigs.Virtual(SchedulingAlgorithm.RoundRobin, [TestConfigs.Real(only)]), timeProvider: clock);
        await using (runtime)
        {
            Assert.Null(await RedispatchTests.WhoAnswersOrNullAsync(runtime));
            await Eventually.TrueAsync(() => !log.Finished.IsEmpty, TestClient.Deadline);
            Assert.Equal(CloseReason.ConnectFailed, Assert.Single(log.Finished).Reason);
            RealServerTrafficStatus status = runtime.GetStatus().Find(only)!;
            Assert.True(status.Suspect);
            Assert.False(status.HeldDown); // nobody else to send clients to

            // The server returns within the hold-down: the next client reaches it instead of being refused.
            await using var back = LoopbackServer.IdEcho("back", port: only.Port);
            Assert.Equal("back", await TestClient.WhoAnswersAsync(runtime.Address()));
            Assert.Single(sink.Failures);
        }
    }

    [Fact]
    public async Task Persistence_entries_of_a_suspect_server_are_dropped()
    {
        var clock = new FakeTimeProvider();
        await using var a = LoopbackServer.IdEcho("A");
        await using var b = LoopbackServer.IdEcho("B");
        var (runtime, _, sink) = await TestRuntime.StartAsync(
            TestConfigs.Virtual(SchedulingAlgorithm.RoundRobin, [TestConfigs.Real(a.Endpoint), TestConfigs.Real(b.Endpoint)],
                persistenceTimeout: TimeSpan.FromSeconds(300)),
            timeProvider: clock);
        await using (runtime)
        {
            // Find two client addresses that stick to A.
            var onA = new List<string>();
            for (int i = 2; onA.Count < 2 && i < 20; i++)
            {
                string from = $"127.0.0.{i}";
                if (await TestClient.WhoAnswersAsync(runtime.Address(), from) == "A")
                {
                    onA.Add(from);
                }
            }

            Assert.Equal(2, onA.Count);
            a.StopListening();

            // The first pays a failed connect (redispatched to B); A turns suspect and the second client's entry
            // for A goes with it.
            Assert.Equal("B", await TestClient.WhoAnswersAsync(runtime.Address(), onA[0]));
            Assert.Single(sink.Failures);
            Assert.Equal("B", await TestClient.WhoAnswersAsync(runtime.Address(), onA[1]));

            // After the hold-down the second client is not sent back to A: its entry now names B.
            clock.Advance(TimeSpan.FromSeconds(11));
            Assert.False(runtime.GetStatus().Find(a.Endpoint)!.Suspect);
            Assert.Equal("B", await TestClient.WhoAnswersAsync(runtime.Address(), onA[1]));
            Assert.Equal("B", await TestClient.WhoAnswersAsync(runtime.Address(), onA[0]));
            Assert.Single(sink.Failures);
        }
    }

    [Fact]
    public async Task The_hold_down_is_at_most_delay_loop_and_zero_turns_suspicion_off()
    {
        await using var live = LoopbackServer.IdEcho("live");
        IPEndPoint dead = TestConfigs.DeadEndpoint();
        var clock = new FakeTimeProvider();
        var (runtime, _, _) = await TestRuntime.StartAsync(
            TestConfigs.Virtual(SchedulingAlgorithm.RoundRobin, [TestConfigs.Real(dead), TestConfigs.Real(live.Endpoint)],
                delayLoop: TimeSpan.FromSeconds(3)),
            timeProvider: clock);
        await using (runtime)
        {
            await TestClient.WhoAnswersAsync(runtime.Address());
            await TestClient.WhoAnswersAsync(runtime.Address());
            Assert.Equal(TimeSpan.FromSeconds(3), runtime.GetStatus().Find(dead)!.SuspectRemaining);
        }

        var (off, _, sink) = await TestRuntime.StartAsync(
            TestConfigs.Virtual(SchedulingAlgorithm.RoundRobin, [TestConfigs.Real(dead), TestConfigs.Real(live.Endpoint)]),
            options: ForwarderOptions.Default with { SuspectHoldDown = TimeSpan.Zero },
            timeProvider: clock);
        await using (off)
        {
            for (int i = 0; i < 6; i++)
            {
                Assert.Equal("live", await TestClient.WhoAnswersAsync(off.Address()));
            }

            Assert.True(sink.Failures.Count >= 3, $"{sink.Failures.Count} failures"); // without suspicion, dead keeps being picked
            Assert.False(off.GetStatus().Find(dead)!.Suspect);
        }
    }
}

/// <summary>A blackholed real server (SYNs dropped): only the first client pays <c>proxy_connect_timeout</c>.</summary>
[Collection(TimingCollection.Name)]
public class BlackholeTests
{
    [Fact]
    public async Task Only_the_first_client_pays_the_connect_timeout_of_a_blackholed_server()
    {
        // A listener with backlog 0 whose accept queue holds one connection that is never accepted: Linux drops
        // every further SYN (the accept queue is full), so a connect hangs like one to a blackholed host.
        using var blackhole = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        blackhole.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        blackhole.Listen(0);
        var blackholeEndpoint = (IPEndPoint)blackhole.LocalEndPoint!;
        using var filler = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await filler.ConnectAsync(blackholeEndpoint);
        await AssertConnectHangsAsync(blackholeEndpoint);

        await using var live = LoopbackServer.IdEcho("live");
        TimeSpan connectTimeout = TimeSpan.FromSeconds(1);
        var (runtime, log, sink) = await TestRuntime.StartAsync(TestConfigs.Virtual(SchedulingAlgorithm.RoundRobin,
            [TestConfigs.Real(blackholeEndpoint), TestConfigs.Real(live.Endpoint)], connectTimeout: connectTimeout));
        await using (runtime)
        {
            var durations = new List<TimeSpan>();
            for (int i = 0; i < 8; i++)
            {
                var watch = Stopwatch.StartNew();
                Assert.Equal("live", await TestClient.WhoAnswersAsync(runtime.Address()));
                durations.Add(watch.Elapsed);
            }

            string all = string.Join(", ", durations.Select(d => $"{d.TotalMilliseconds:F0} ms"));
            Assert.True(durations.Count(d => d >= connectTimeout * 0.9) == 1, all);
            Assert.True(durations.Count(d => d < TimeSpan.FromMilliseconds(500)) == 7, all);
            var failure = Assert.Single(sink.Failures);
            Assert.Equal(SocketError.TimedOut, failure.Error);
            Assert.Equal(blackholeEndpoint, failure.RealServer);
            Assert.True(runtime.GetStatus().Find(blackholeEndpoint)!.HeldDown);
        }
    }

    private static async Task AssertConnectHangsAsync(IPEndPoint endpoint)
    {
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        using var timeout = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await probe.ConnectAsync(endpoint, timeout.Token));
    }
}
