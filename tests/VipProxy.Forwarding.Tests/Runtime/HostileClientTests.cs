using System.Diagnostics;
using System.Net.Sockets;
using VipProxy.Config.Model;
using VipProxy.Forwarding.Relay;
using VipProxy.Forwarding.Runtime;
using VipProxy.Forwarding.Tests.Support;
using Xunit.Abstractions;

namespace VipProxy.Forwarding.Tests.Runtime;

/// <summary>
/// Hostile clients on loopback: silent clients (slowloris), clients that never read a 100 MB backlog, connect floods
/// beyond <c>maxconn</c>, and half-open connections. Each states a memory bound and asserts it generously (the test
/// process holds clients, servers and proxy, so figures include all three); deadlines are protocol deadlines with wide
/// margins. Figures are written to the test output (run with <c>--logger "console;verbosity=detailed"</c>).
/// </summary>
[Collection(TimingCollection.Name)]
public class HostileClientTests(ITestOutputHelper output)
{
    private const long MiB = 1024 * 1024;

    /// <summary>Bound on managed heap and RSS growth while under attack and after it (both).</summary>
    private const long MemoryBound = 64 * MiB;

    [Fact]
    public async Task Silent_clients_are_closed_by_idle_timeout_while_others_are_served()
    {
        const int silent = 200;
        await using var server = new LoopbackServer(LoopbackServer.EchoAsync);
        var (runtime, _, _) = await TestRuntime.StartAsync(TestConfigs.Virtual(SchedulingAlgorithm.RoundRobin,
            [TestConfigs.Real(server.Endpoint)], idleTimeout: TimeSpan.FromSeconds(2)));
        await using (runtime)
        {
            Memory before = Memory.Measure();
            var clients = new List<Socket>();
            try
            {
                for (int i = 0; i < silent; i++)
                {
                    clients.Add(await TestClient.ConnectAsync(runtime.Address()));
                }

                await Eventually.TrueAsync(() => server.AcceptCount == silent, TestClient.Deadline, "every silent client is forwarded");
                Memory peak = Memory.Measure();

                // A well-behaved client is served throughout, talking every 100 ms (a twentieth of the timeout).
                using Socket active = await TestClient.ConnectAsync(runtime.Address());
                var watch = Stopwatch.StartNew();
                while (runtime.GetStatus().CountOf(CloseReason.IdleTimeout) < silent && watch.Elapsed < TestClient.Deadline)
                {
                    Assert.Equal("tick", await TestClient.EchoAsync(active, "tick"));
                    await Task.Delay(100);
                }

                // Idle deadline 2 s, swept every 0.5 s: all closed by ~2.5 s; allow the 20 s test deadline.
                Assert.Equal(silent, runtime.GetStatus().CountOf(CloseReason.IdleTimeout));
                foreach (Socket client in clients)
                {
                    Assert.True(await ClosedByPeerAsync(client), "a silent client was not closed");
                }

                Assert.Equal("still", await TestClient.EchoAsync(active, "still"));
                Assert.Equal(1, runtime.GetStatus().OpenConnections);

                // The test's own client sockets keep their last receive buffer (64 KiB each): let them go first.
                clients.ForEach(socket => socket.Dispose());
                clients.Clear();
                Memory after = Memory.Measure();
                Report($"{silent} silent clients", before, peak, after);
                AssertBounded(before, peak, after);
            }
            finally
            {
                clients.ForEach(socket => socket.Dispose());
            }
        }
    }

    [Theory]
    [MemberData(nameof(TestRuntime.DataPaths), MemberType = typeof(TestRuntime))]
    public async Task Clients_that_never_read_a_100_MB_backlog_keep_proxy_memory_bounded(DataPath relay)
    {
        const int readers = 4;
        const long total = 100L * 1024 * 1024;
        long serverSent = 0;
        int pushers = 0;
        await using var server = new LoopbackServer(async socket =>
        {
            byte[] first = new byte[1];
            await socket.ReceiveAsync(first);
            if (first[0] == (byte)'e')
            {
                await socket.SendAsync(first);
                await LoopbackServer.EchoAsync(socket);
                return;
            }

            // A pusher: 100 MB to a client that never reads.
            Interlocked.Increment(ref pushers);
            var chunk = new byte[64 * 1024];
            long sent = 0;
            while (sent < total)
            {
                int size = (int)Math.Min(chunk.Length, total - sent);
                await socket.SendAsync(chunk.AsMemory(0, size));
                sent += size;
                Interlocked.Add(ref serverSent, size);
            }
        });
        var (runtime, _, _) = await TestRuntime.StartAsync(TestConfigs.Virtual(SchedulingAlgorithm.RoundRobin,
            [TestConfigs.Real(server.Endpoint)]), relay);
        await using (runtime)
        {
            Memory before = Memory.Measure();
            var stalled = new List<Socket>();
            for (int i = 0; i < readers; i++)
            {
                Socket client = await TestClient.ConnectAsync(runtime.Address());
                client.ReceiveBufferSize = 64 * 1024;
                await client.SendAsync("p"u8.ToArray());
                stalled.Add(client);
            }

            await Eventually.TrueAsync(() => Volatile.Read(ref pushers) == readers, TestClient.Deadline);

            // Wait until backpressure stalls every pusher (the sent count stops moving).
            long last = -1;
            for (int i = 0; i < 100 && Volatile.Read(ref serverSent) != last; i++)
            {
                last = Volatile.Read(ref serverSent);
                await Task.Delay(200);
            }

            long buffered = runtime.Connections().Sum(connection => connection.BufferedBytes);
            Memory peak = Memory.Measure();

            // Others are served meanwhile.
            using (Socket other = await TestClient.ConnectAsync(runtime.Address()))
            {
                await other.SendAsync("e"u8.ToArray());
                Assert.Equal("e" + "hello", await TestClient.EchoAsync(other, "hello"));
            }

            // The stalled clients vanish without reading (close with unread data: RST): the proxy lets go of them.
            stalled.ForEach(socket => socket.Dispose());
            await Eventually.TrueAsync(() => runtime.GetStatus().OpenConnections == 0 && runtime.Connections().Count == 0, TestClient.Deadline);
            Memory after = Memory.Measure();
            output.WriteLine($"{relay}: server pushed {Volatile.Read(ref serverSent) / MiB} MiB of {readers * total / MiB} MiB; proxy buffered {buffered} bytes");
            Report($"{readers} non-readers ({relay})", before, peak, after);

            // At most one copy buffer (16 KiB) or one kernel pipe (256 KiB) per direction: 1 MiB each is a wide
            // margin.
            Assert.True(buffered <= readers * MiB, $"proxy buffered {buffered} bytes");
            Assert.True(Volatile.Read(ref serverSent) < readers * total / 2, $"server sent {serverSent}: no backpressure?");
            AssertBounded(before, peak, after);
        }
    }

    [Fact]
    public async Task A_connect_flood_beyond_maxconn_is_refused_quickly_and_service_resumes()
    {
        const int maxconn = 20;
        const int flood = 1000;
        const int inFlight = 50;
        await using var server = LoopbackServer.IdEcho("A");
        var (runtime, _, _) = await TestRuntime.StartAsync(TestConfigs.Virtual(SchedulingAlgorithm.RoundRobin,
            [TestConfigs.Real(server.Endpoint)], maxConnections: maxconn));
        await using (runtime)
        {
            Memory before = Memory.Measure();
            var held = new List<Socket>();
            try
            {
                for (int i = 0; i < maxconn; i++)
                {
                    held.Add(await TestClient.ConnectAsync(runtime.Address()));
                    Assert.Equal("A", await TestClient.ReadLineAsync(held[^1]));
                }

                // The flood: 1000 connects, 50 in flight at a time; each must be closed by the proxy without a
                // byte of service.
                long slowestTicks = 0;
                int next = -1;
                var watch = Stopwatch.StartNew();
                await Task.WhenAll(Enumerable.Range(0, inFlight).Select(async _ =>
                {
                    while (Interlocked.Increment(ref next) < flood)
                    {
                        long started = Stopwatch.GetTimestamp();
                        Assert.True(await RefusedAsync(runtime), "a client beyond maxconn was served");
                        long elapsed = Stopwatch.GetTimestamp() - started;
                        long seen;
                        while ((seen = Volatile.Read(ref slowestTicks)) < elapsed
                            && Interlocked.CompareExchange(ref slowestTicks, elapsed, seen) != seen)
                        {
                        }
                    }
                }));
                TimeSpan floodTime = watch.Elapsed;
                TimeSpan slowest = Stopwatch.GetElapsedTime(0, slowestTicks);
                await Eventually.TrueAsync(() => runtime.GetStatus().CountOf(CloseReason.VirtualServerFull) == flood, TestClient.Deadline);
                Memory peak = Memory.Measure();

                // The established clients were not disturbed; once they leave, new clients are served again.
                foreach (Socket socket in held)
                {
                    Assert.Equal("alive", await TestClient.EchoAsync(socket, "alive"));
                }

                held.ForEach(socket => socket.Dispose());
                held.Clear();
                await Eventually.TrueAsync(() => runtime.GetStatus().OpenConnections == 0, TestClient.Deadline);
                for (int i = 0; i < maxconn; i++)
                {
                    Assert.Equal("A", await TestClient.WhoAnswersAsync(runtime.Address()));
                }

                await Eventually.TrueAsync(() => runtime.Connections().Count == 0, TestClient.Deadline);
                Memory after = Memory.Measure();
                output.WriteLine($"flood of {flood} beyond maxconn {maxconn}: {floodTime.TotalMilliseconds:F0} ms in all, slowest refusal {slowest.TotalMilliseconds:F1} ms");
                Report("connect flood", before, peak, after);

                // "Quickly": a refusal is one accept and a reset; 5 s is a protocol-level margin on a loaded 2-core box.
                Assert.True(slowest < TimeSpan.FromSeconds(5), $"slowest refusal took {slowest}");
                Assert.Equal(flood, runtime.GetStatus().CountOf(CloseReason.VirtualServerFull));
                AssertBounded(before, peak, after);
            }
            finally
            {
                held.ForEach(socket => socket.Dispose());
            }
        }
    }

    [Fact]
    public async Task A_connect_flood_from_one_source_is_refused_per_source_while_another_source_is_served()
    {
        const int flood = 1000;
        const int inFlight = 50;
        await using var server = LoopbackServer.IdEcho("A");
        var (runtime, _, _) = await TestRuntime.StartAsync(TestConfigs.Virtual(SchedulingAlgorithm.RoundRobin,
            [TestConfigs.Real(server.Endpoint)], maxConnectionsPerSource: 5,
            connectionRatePerSource: new ConnectionRateLimit(50, TimeSpan.FromMinutes(10))));
        await using (runtime)
        {
            Memory before = Memory.Measure();

            // 127.0.0.3 holds a connection and keeps talking through the whole flood from 127.0.0.2.
            using Socket quiet = await TestClient.ConnectAsync(runtime.Address(), "127.0.0.3");
            Assert.Equal("A", await TestClient.ReadLineAsync(quiet));
            int next = -1;
            int served = 0;
            var watch = Stopwatch.StartNew();
            Task floodTask = Task.WhenAll(Enumerable.Range(0, inFlight).Select(async _ =>
            {
                while (Interlocked.Increment(ref next) < flood)
                {
                    try
                    {
                        using Socket socket = await TestClient.ConnectAsync(runtime.Address(), "127.0.0.2");
                        if (await TestClient.ReadLineAsync(socket) is not null)
                        {
                            Interlocked.Increment(ref served);
                        }
                    }
                    catch (SocketException)
                    {
                        // Refused: reset before or after the connect completed.
                    }
                }
            }));
            int exchanges = 0;
            while (!floodTask.IsCompleted)
            {
                Assert.Equal("tick", await TestClient.EchoAsync(quiet, "tick"));
                exchanges++;
            }

            await floodTask;
            TimeSpan floodTime = watch.Elapsed;
            await Eventually.TrueAsync(() => runtime.GetStatus().OpenConnections == 1, TestClient.Deadline);
            Memory peak = Memory.Measure();
            VirtualServerTrafficStatus status = runtime.GetStatus();

            // At most the rate's 50 attempts were admitted (each also within the 5 concurrent); all others refused.
            Assert.InRange(served, 1, 50);
            Assert.Equal(flood - served, status.SourceLimitRefused + status.SourceRateRefused);
            Assert.Equal(2, status.TrackedSources);
            Assert.Equal("still", await TestClient.EchoAsync(quiet, "still"));
            Memory after = Memory.Measure();
            output.WriteLine($"flood of {flood} from one source: {floodTime.TotalMilliseconds:F0} ms, {served} served, " +
                $"{status.SourceLimitRefused} refused by maxconn_per_source, {status.SourceRateRefused} by conn_rate_per_source; " +
                $"the other source made {exchanges} exchanges meanwhile");
            Report("per-source flood", before, peak, after);
            AssertBounded(before, peak, after);
        }
    }

    /// <summary>Half-open connections left behind by a peer, each cleaned by idle_timeout.</summary>
    public enum HalfOpen
    {
        /// <summary>The client sends its FIN, then neither reads nor closes; the server never answers nor closes.</summary>
        ClientFinThenSilent,

        /// <summary>The server sends its FIN and goes silent; the client never reads nor closes.</summary>
        ServerFinThenSilent,

        /// <summary>The server stops reading; the client fills every buffer on the way, then goes silent.</summary>
        ServerStopsReading,
    }

    [Theory]
    [InlineData(HalfOpen.ClientFinThenSilent)]
    [InlineData(HalfOpen.ServerFinThenSilent)]
    [InlineData(HalfOpen.ServerStopsReading)]
    public async Task Half_open_connections_are_cleaned_by_idle_timeout(HalfOpen kind)
    {
        const int count = 20;
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = new LoopbackServer(async socket =>
        {
            if (kind == HalfOpen.ServerFinThenSilent)
            {
                socket.Shutdown(SocketShutdown.Send);
            }
            else if (kind == HalfOpen.ClientFinThenSilent)
            {
                await TestClient.DrainAsync(socket, CancellationToken.None);
            }

            // Never reads (again), never closes, until the test ends.
            await release.Task;
        });
        var (runtime, _, _) = await TestRuntime.StartAsync(TestConfigs.Virtual(SchedulingAlgorithm.RoundRobin,
            [TestConfigs.Real(server.Endpoint)], idleTimeout: TimeSpan.FromSeconds(2)));
        await using (runtime)
        {
            Memory before = Memory.Measure();
            var clients = new List<Socket>();
            var pending = new List<Task>();
            try
            {
                for (int i = 0; i < count; i++)
                {
                    Socket client = await TestClient.ConnectAsync(runtime.Address());
                    clients.Add(client);
                    if (kind == HalfOpen.ClientFinThenSilent)
                    {
                        client.Shutdown(SocketShutdown.Send);
                    }
                }

                await Eventually.TrueAsync(() => server.AcceptCount == count, TestClient.Deadline);
                if (kind == HalfOpen.ServerStopsReading)
                {
                    // Every client sends until the path is full (a send that does not complete within 500 ms).
                    pending.AddRange(await Task.WhenAll(clients.Select(FillAsync)));
                }
                else
                {
                    // The half-close reached the proxy: LVS's "inactive" connections (or already timed out, on a box
                    // slow enough to take the idle timeout to connect them all).
                    await Eventually.TrueAsync(() =>
                        runtime.GetStatus().Find(server.Endpoint)!.InactiveConnections + runtime.GetStatus().CountOf(CloseReason.IdleTimeout) == count, TestClient.Deadline);
                }

                Memory peak = Memory.Measure();
                long buffered = runtime.Connections().Sum(connection => connection.BufferedBytes);

                // Idle deadline 2 s (swept every 0.5 s); allow 20 s.
                await Eventually.TrueAsync(() => runtime.GetStatus().CountOf(CloseReason.IdleTimeout) == count, TestClient.Deadline, "every half-open connection times out");
                VirtualServerTrafficStatus status = runtime.GetStatus();
                Assert.Equal(0, status.OpenConnections);
                Assert.Equal(0, status.Find(server.Endpoint)!.ActiveConnections);
                Assert.Equal(0, status.Find(server.Endpoint)!.InactiveConnections);
                Assert.Empty(runtime.Connections());
                foreach (Socket client in clients)
                {
                    Assert.True(await ClosedByPeerAsync(client), "a half-open client was not closed");
                }

                // The test's own client sockets keep their last receive buffer (64 KiB each): let them go first.
                clients.ForEach(socket => socket.Dispose());
                clients.Clear();
                Memory after = Memory.Measure();
                output.WriteLine($"{kind}: proxy buffered {buffered} bytes over {count} connections");
                Report($"{count} half-open ({kind})", before, peak, after);
                Assert.True(buffered <= count * MiB, $"proxy buffered {buffered} bytes");
                AssertBounded(before, peak, after);
            }
            finally
            {
                release.TrySetResult();
                clients.ForEach(socket => socket.Dispose());

                // The last send of each filling client never completed: it fails when the socket is reset or closed.
                await Task.WhenAll(pending).ContinueWith(_ => { }, TaskScheduler.Default);
            }
        }
    }

    /// <summary>Sends until a send stays pending for 500 ms; returns that pending send (or a completed task when the
    /// proxy already closed the connection).</summary>
    private static async Task<Task> FillAsync(Socket client)
    {
        var payload = new byte[256 * 1024];
        client.SendBufferSize = 64 * 1024;
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TestClient.Deadline)
        {
            Task<int> send = client.SendAsync(payload, SocketFlags.None);
            if (await Task.WhenAny(send, Task.Delay(500)) != send)
            {
                return send;
            }

            try
            {
                await send;
            }
            catch (SocketException)
            {
                // The proxy stopped reading it more than idle_timeout ago while the client was still filling the
                // proxy's receive buffer (which grows to megabytes on loopback): already reset, which is the outcome
                // under test (the close reason is asserted by the caller).
                return Task.CompletedTask;
            }
        }

        Assert.Fail("the path never filled up: is the server reading?");
        return Task.CompletedTask;
    }

    /// <summary>True when the peer closed (EOF or reset) within the deadline; data before that is skipped.</summary>
    private static async Task<bool> ClosedByPeerAsync(Socket socket)
    {
        try
        {
            using var timeout = new CancellationTokenSource(TestClient.Deadline);
            await TestClient.DrainAsync(socket, timeout.Token);
            return true;
        }
        catch (SocketException)
        {
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>Connects and expects the proxy to close at once: true when no byte of service came back.</summary>
    private static async Task<bool> RefusedAsync(VirtualServerRuntime runtime)
    {
        try
        {
            using Socket socket = await TestClient.ConnectAsync(runtime.Address());
            return await TestClient.ReadLineAsync(socket) is null;
        }
        catch (SocketException)
        {
            // Reset before the connect completed, or while reading.
            return true;
        }
    }

    private void Report(string what, Memory before, Memory peak, Memory after) => output.WriteLine(
        $"{what}: managed heap {before.Heap / (double)MiB:F1} -> {peak.Heap / (double)MiB:F1} -> {after.Heap / (double)MiB:F1} MiB, " +
        $"RSS {before.Rss / (double)MiB:F1} -> {peak.Rss / (double)MiB:F1} -> {after.Rss / (double)MiB:F1} MiB (before, under attack, after)");

    private static void AssertBounded(Memory before, Memory peak, Memory after)
    {
        Assert.True(peak.Heap - before.Heap < MemoryBound, $"managed heap grew {peak.Heap - before.Heap} bytes under attack");
        Assert.True(peak.Rss - before.Rss < MemoryBound, $"RSS grew {peak.Rss - before.Rss} bytes under attack");
        Assert.True(after.Heap - before.Heap < MemoryBound, $"managed heap kept {after.Heap - before.Heap} bytes after the attack");
        Assert.True(after.Rss - before.Rss < MemoryBound, $"RSS kept {after.Rss - before.Rss} bytes after the attack");
    }

    /// <summary>Managed heap after a full collection, and the process's resident set.</summary>
    private readonly record struct Memory(long Heap, long Rss)
    {
        public static Memory Measure()
        {
            long heap = GC.GetTotalMemory(forceFullCollection: true);
            using var process = Process.GetCurrentProcess();
            return new Memory(heap, process.WorkingSet64);
        }
    }
}
