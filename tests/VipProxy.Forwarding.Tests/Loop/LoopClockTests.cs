using System.Net.Sockets;
using Microsoft.Extensions.Time.Testing;
using VipProxy.Config.Model;
using VipProxy.Forwarding.Relay;
using VipProxy.Forwarding.Tests.Support;

namespace VipProxy.Forwarding.Tests.Loop;

/// <summary>
/// Idle timeout, connect timeout, drain deadline and connection ages all come from the loops' timer wheel on the
/// runtime's <see cref="TimeProvider"/>: on a fake clock they happen exactly when the fake time passes them, and
/// not while real time passes.
/// </summary>
public class LoopClockTests
{
    private static readonly TimeSpan Step = TimeSpan.FromMilliseconds(100);

    [Fact]
    public async Task Idle_timeout_fires_when_the_fake_clock_passes_it_and_activity_postpones_it()
    {
        var clock = new FakeTimeProvider();
        await using var server = LoopbackServer.IdEcho("A");
        var (runtime, log, _) = await TestRuntime.StartAsync(TestConfigs.Virtual(SchedulingAlgorithm.RoundRobin,
            [TestConfigs.Real(server.Endpoint)], idleTimeout: TimeSpan.FromSeconds(10)), timeProvider: clock);
        await using (runtime)
        {
            using Socket client = await TestClient.ConnectAsync(runtime.Address());
            Assert.Equal("A", await TestClient.ReadLineAsync(client));

            // Real time passes, fake time does not: nothing expires.
            await Task.Delay(300);
            Assert.Equal("tick", await TestClient.EchoAsync(client, "tick"));

            // 8 s of fake time, then activity, then 8 s more: 16 s in all but never 10 s idle.
            await AdvanceAsync(clock, TimeSpan.FromSeconds(8));
            Assert.Equal("tick", await TestClient.EchoAsync(client, "tick"));
            await AdvanceAsync(clock, TimeSpan.FromSeconds(8));
            Assert.Equal(0, runtime.GetStatus().CountOf(CloseReason.IdleTimeout));
            Assert.Equal("still", await TestClient.EchoAsync(client, "still"));

            // Now 10 s idle: it closes within the next steps of fake time.
            TimeSpan waited = await AdvanceUntilAsync(clock, () => runtime.GetStatus().CountOf(CloseReason.IdleTimeout) == 1);
            Assert.InRange(waited, TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(10) + (4 * Step));
            Assert.Equal(CloseReason.IdleTimeout, Assert.Single(log.Finished).Reason);
        }
    }

    [Fact]
    public async Task Connect_timeout_fires_on_the_fake_clock()
    {
        // A listener with backlog 0 whose accept queue is full: Linux drops further SYNs, so connects hang.
        using var blackhole = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        blackhole.Bind(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0));
        blackhole.Listen(0);
        var fillers = new List<Socket>();
        for (int i = 0; i < 2; i++)
        {
            var filler = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            _ = filler.ConnectAsync(blackhole.LocalEndPoint!);
            fillers.Add(filler);
        }

        var clock = new FakeTimeProvider();
        var (runtime, log, sink) = await TestRuntime.StartAsync(TestConfigs.Virtual(SchedulingAlgorithm.RoundRobin,
            [TestConfigs.Real((System.Net.IPEndPoint)blackhole.LocalEndPoint!)], connectTimeout: TimeSpan.FromSeconds(5)),
            timeProvider: clock);
        await using (runtime)
        {
            await Task.Delay(200); // the fillers occupy the queue
            using Socket client = await TestClient.ConnectAsync(runtime.Address());
            await Eventually.TrueAsync(() => runtime.Connections().Count == 1, TestClient.Deadline);
            await Task.Delay(300);
            Assert.Empty(log.Finished);
            TimeSpan waited = await AdvanceUntilAsync(clock, () => !log.Finished.IsEmpty);
            Assert.InRange(waited, TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(5) + (4 * Step));
            Assert.Equal(CloseReason.ConnectTimeout, Assert.Single(log.Finished).Reason);
            Assert.Equal(SocketError.TimedOut, Assert.Single(sink.Failures).Error);
        }

        fillers.ForEach(socket => socket.Dispose());
    }

    [Fact]
    public async Task The_drain_deadline_is_kept_on_the_fake_clock()
    {
        var clock = new FakeTimeProvider();
        await using var server = LoopbackServer.IdEcho("A");
        var (runtime, log, _) = await TestRuntime.StartAsync(TestConfigs.Virtual(SchedulingAlgorithm.RoundRobin,
            [TestConfigs.Real(server.Endpoint)]), timeProvider: clock);
        await using (runtime)
        {
            using Socket client = await TestClient.ConnectAsync(runtime.Address());
            Assert.Equal("A", await TestClient.ReadLineAsync(client));
            Task<bool> drain = runtime.DrainAsync(TimeSpan.FromSeconds(30));
            await AdvanceAsync(clock, TimeSpan.FromSeconds(29));
            Assert.False(drain.IsCompleted);
            Assert.Equal("alive", await TestClient.EchoAsync(client, "alive"));
            await AdvanceUntilAsync(clock, () => drain.IsCompleted);
            Assert.False(await drain);
            Assert.Equal(CloseReason.Shutdown, Assert.Single(log.Finished).Reason);
        }
    }

    [Fact]
    public async Task Connection_age_and_idle_time_are_read_from_the_loop_clock()
    {
        var clock = new FakeTimeProvider();
        await using var server = LoopbackServer.IdEcho("A");
        var (runtime, _, _) = await TestRuntime.StartAsync(TestConfigs.Virtual(SchedulingAlgorithm.RoundRobin,
            [TestConfigs.Real(server.Endpoint)]), timeProvider: clock);
        await using (runtime)
        {
            using Socket client = await TestClient.ConnectAsync(runtime.Address());
            Assert.Equal("A", await TestClient.ReadLineAsync(client));
            await AdvanceAsync(clock, TimeSpan.FromSeconds(7));
            Assert.Equal("x", await TestClient.EchoAsync(client, "x"));
            await AdvanceAsync(clock, TimeSpan.FromSeconds(2));
            var row = Assert.Single(runtime.Connections());
            Assert.InRange(row.Age, TimeSpan.FromSeconds(9), TimeSpan.FromSeconds(9) + (2 * Step));
            Assert.InRange(row.Idle, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(2) + (2 * Step));
            Assert.Equal(runtime.Address(), row.VirtualServer);
            Assert.Equal(server.Endpoint, row.RealServer);
            Assert.Equal(2, row.BytesFromClient);
        }
    }

    /// <summary>Moves the fake clock by <paramref name="span"/> in steps, letting the loops run between steps.</summary>
    private static async Task AdvanceAsync(FakeTimeProvider clock, TimeSpan span)
    {
        for (TimeSpan moved = TimeSpan.Zero; moved < span; moved += Step)
        {
            clock.Advance(Step);
            await Task.Delay(5);
        }
    }

    /// <summary>Moves the fake clock in steps until <paramref name="condition"/> holds; returns the fake time moved.</summary>
    private static async Task<TimeSpan> AdvanceUntilAsync(FakeTimeProvider clock, Func<bool> condition)
    {
        TimeSpan moved = TimeSpan.Zero;
        while (!condition())
        {
            Assert.True(moved < TimeSpan.FromMinutes(5), "the fake clock moved 5 minutes and nothing happened");
            clock.Advance(Step);
            moved += Step;
            for (int i = 0; i < 10 && !condition(); i++)
            {
                await Task.Delay(5);
            }
        }

        return moved;
    }
}
