using System.Net.Sockets;
using VipProxy.Config.Model;
using VipProxy.Forwarding.Relay;
using VipProxy.Forwarding.Tests.Support;

namespace VipProxy.Forwarding.Tests.Runtime;

/// <summary>Idle timeout, drain, and bounded buffering: deadlines with generous margins, run alone.</summary>
[Collection(TimingCollection.Name)]
public class TimingTests
{
    [Theory]
    [MemberData(nameof(TestRuntime.DataPaths), MemberType = typeof(TestRuntime))]
    public async Task Idle_timeout_closes_an_idle_connection_but_not_an_active_one(DataPath relay)
    {
        await using var a = LoopbackServer.IdEcho("A");
        var (runtime, log, _) = await TestRuntime.StartAsync(TestConfigs.Virtual(SchedulingAlgorithm.RoundRobin,
            [TestConfigs.Real(a.Endpoint)], idleTimeout: TimeSpan.FromSeconds(2)), relay);
        await using (runtime)
        {
            using Socket idle = await TestClient.ConnectAsync(runtime.Address());
            using Socket active = await TestClient.ConnectAsync(runtime.Address());
            Assert.Equal("A", await TestClient.ReadLineAsync(idle));
            Assert.Equal("A", await TestClient.ReadLineAsync(active));

            // The active one talks every 100 ms for 4 s, well past the 2 s timeout. The gap between its
            // messages is a twentieth of the timeout so that a loaded 2-core machine cannot stall it into idleness.
            var started = DateTime.UtcNow;
            while (DateTime.UtcNow - started < TimeSpan.FromSeconds(4))
            {
                Assert.Equal("tick", await TestClient.EchoAsync(active, "tick"));
                await Task.Delay(100);
            }

            // The idle one was reset by the proxy (deadline: protocol says ~2.5 s; allow 20 s).
            await Assert.ThrowsAsync<SocketException>(async () =>
            {
                await TestClient.DrainAsync(idle, new CancellationTokenSource(TestClient.Deadline).Token);
                throw new SocketException((int)SocketError.ConnectionReset); // EOF also counts as closed
            });
            Assert.Equal(1, runtime.GetStatus().CountOf(CloseReason.IdleTimeout));
            Assert.Equal("still", await TestClient.EchoAsync(active, "still"));
            FinishedConnection finished = Assert.Single(log.Finished);
            Assert.Equal(ConnectionSide.Proxy, finished.Side);
        }
    }

    [Theory]
    [MemberData(nameof(TestRuntime.DataPaths), MemberType = typeof(TestRuntime))]
    public async Task A_slow_reader_keeps_proxy_buffering_bounded(DataPath relay)
    {
        const long total = 100L * 1024 * 1024;
        long serverSent = 0;
        await using var server = new LoopbackServer(async socket =>
        {
            var chunk = new byte[64 * 1024];
            while (serverSent < total)
            {
                int size = (int)Math.Min(chunk.Length, total - serverSent);
                await socket.SendAsync(chunk.AsMemory(0, size));
                Interlocked.Add(ref serverSent, size);
            }

            socket.Shutdown(SocketShutdown.Send);
        });
        var (runtime, _, _) = await TestRuntime.StartAsync(TestConfigs.Virtual(SchedulingAlgorithm.RoundRobin,
            [TestConfigs.Real(server.Endpoint)]), relay);
        await using (runtime)
        {
            using Socket client = await TestClient.ConnectAsync(runtime.Address());
            client.ReceiveBufferSize = 64 * 1024;

            // Read nothing until the server is stalled by backpressure (its sent count stops moving).
            long before = GC.GetTotalAllocatedBytes(precise: true);
            long last = -1;
            for (int i = 0; i < 100 && Volatile.Read(ref serverSent) != last; i++)
            {
                last = Volatile.Read(ref serverSent);
                await Task.Delay(200);
            }

            long allocatedWhileStalled = GC.GetTotalAllocatedBytes(precise: true) - before;
            var connection = Assert.Single(runtime.Connections());

            // Bytes read from upstream but not yet delivered to the client: one copy buffer (16 KiB) or one kernel pipe
            // (256 KiB). 1 MiB is a wide margin over both; 100 MB is what is pending.
            Assert.True(connection.BufferedBytes <= 1024 * 1024, $"buffered {connection.BufferedBytes}");
            Assert.True(Volatile.Read(ref serverSent) < total / 2, $"server sent {serverSent}: no backpressure?");
            Assert.True(allocatedWhileStalled < 16 * 1024 * 1024, $"allocated {allocatedWhileStalled} bytes while stalled");

            // Now read everything: nothing was lost.
            Assert.Equal(total, await TestClient.DrainAsync(client, new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token));
        }
    }

    [Fact]
    public async Task Stop_accepting_leaves_established_connections_and_drain_waits_for_them()
    {
        await using var a = LoopbackServer.IdEcho("A");
        var (runtime, log, _) = await TestRuntime.StartAsync(TestConfigs.Virtual(SchedulingAlgorithm.RoundRobin,
            [TestConfigs.Real(a.Endpoint)]));
        await using (runtime)
        {
            var address = runtime.Address();
            using Socket established = await TestClient.ConnectAsync(address);
            Assert.Equal("A", await TestClient.ReadLineAsync(established));

            await runtime.StopAcceptingAsync();
            Assert.False(runtime.GetStatus().Accepting);
            await Assert.ThrowsAsync<SocketException>(() => TestClient.ConnectAsync(address));
            Assert.Equal("alive", await TestClient.EchoAsync(established, "alive"));

            // Drain: the connection ends by itself within the window.
            Task<bool> drain = runtime.DrainAsync(TimeSpan.FromSeconds(20));
            await Task.Delay(200);
            Assert.False(drain.IsCompleted);
            established.Shutdown(SocketShutdown.Send);
            Assert.True(await drain.WaitAsync(TestClient.Deadline));
            Assert.Equal(CloseReason.ClientClosed, Assert.Single(log.Finished).Reason);
        }
    }

    [Fact]
    public async Task Drain_timeout_closes_remaining_connections_with_shutdown()
    {
        await using var a = LoopbackServer.IdEcho("A");
        var (runtime, log, _) = await TestRuntime.StartAsync(TestConfigs.Virtual(SchedulingAlgorithm.RoundRobin,
            [TestConfigs.Real(a.Endpoint)]));
        await using (runtime)
        {
            using Socket established = await TestClient.ConnectAsync(runtime.Address());
            Assert.Equal("A", await TestClient.ReadLineAsync(established));
            Assert.False(await runtime.DrainAsync(TimeSpan.FromMilliseconds(300)));
            FinishedConnection finished = Assert.Single(log.Finished);
            Assert.Equal(CloseReason.Shutdown, finished.Reason);
        }
    }
}
