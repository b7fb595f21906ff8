using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging.Abstractions;
using VipProxy.Config.Model;
using VipProxy.Forwarding.Logging;
using VipProxy.Forwarding.Loop;
using VipProxy.Forwarding.Relay;
using VipProxy.Forwarding.Runtime;
using VipProxy.Forwarding.Tests.Support;
using Xunit.Abstractions;

namespace VipProxy.Forwarding.Tests.Loop;

/// <summary>
/// The hazards of an event loop: closes racing pending reads and writes, descriptors closed and reused within one
/// event batch, thousands of connections at once, and a bug in one connection's handling.
/// </summary>
[Collection(TimingCollection.Name)]
public class LoopHazardTests(ITestOutputHelper output)
{
    [Fact]
    public async Task An_event_queued_for_a_freed_slot_never_reaches_the_handler_that_reuses_it()
    {
        var kernel = new ScriptedKernel();
        using var loop = new EventLoop(0, kernel, TimeProvider.System, NullLogger.Instance, NullConnectionLog.Instance);
        var old = new RecordingHandler("old");
        var fresh = new RecordingHandler("fresh");
        int oldSlot = -1;
        ulong oldToken = 0;
        ulong freshToken = 0;

        // A handler whose event closes the old registration and registers a new one, which gets the same slot
        // (as a new connection gets a closed connection's descriptor number) within the same batch.
        var closer = new RecordingHandler("closer")
        {
            OnEvent = () =>
            {
                loop.Unregister(oldSlot);
                int reused = loop.Register(fresh);
                Assert.Equal(oldSlot, reused);
                freshToken = loop.CurrentToken(reused, LoopConnection.ClientKind, 0);
            },
        };
        loop.Start();
        int closerSlot = await loop.InvokeAsync(l => l.Register(closer));
        (oldSlot, oldToken) = await loop.InvokeAsync(l =>
        {
            int slot = l.Register(old);
            return (slot, l.CurrentToken(slot, LoopConnection.ClientKind, 0));
        });
        ulong closerToken = await loop.InvokeAsync(l => l.CurrentToken(closerSlot, 0, 0));

        // One batch: the closer's event, then an event that was queued for the old registration.
        kernel.Deliver([(closerToken, LinuxConstants.EpollIn), (oldToken, LinuxConstants.EpollIn)]);
        await Eventually.TrueAsync(() => loop.StaleEvents == 1, TestClient.Deadline);
        Assert.Equal(1, closer.Events);
        Assert.Equal(0, old.Events);
        Assert.Equal(0, fresh.Events);

        // The new registration's own events do arrive.
        kernel.Deliver([(freshToken, LinuxConstants.EpollIn)]);
        await Eventually.TrueAsync(() => fresh.Events == 1, TestClient.Deadline);
        Assert.Equal(1, loop.StaleEvents);
        await loop.StopAsync();
    }

    [Fact]
    public async Task An_exception_in_one_connection_closes_that_connection_only_and_is_counted()
    {
        await using var server = new LoopbackServer(LoopbackServer.EchoAsync);
        var kernel = new FaultyKernel("BOOM"u8.ToArray());
        var (runtime, log, _) = await TestRuntime.StartAsync(TestConfigs.Virtual(SchedulingAlgorithm.RoundRobin,
            [TestConfigs.Real(server.Endpoint)]), options: ForwarderOptions.Default with { Kernel = kernel });
        await using (runtime)
        {
            var healthy = new List<Socket>();
            for (int i = 0; i < 6; i++)
            {
                healthy.Add(await TestClient.ConnectAsync(runtime.Address()));
                Assert.Equal($"before {i}", await TestClient.EchoAsync(healthy[^1], $"before {i}"));
            }

            using Socket victim = await TestClient.ConnectAsync(runtime.Address());
            await victim.SendAsync("BOOM and the proxy's send throws\n"u8.ToArray());
            await Assert.ThrowsAnyAsync<Exception>(async () =>
            {
                if (await TestClient.ReadLineAsync(victim) is null)
                {
                    throw new SocketException((int)SocketError.ConnectionReset);
                }
            });

            await Eventually.TrueAsync(() => log.Finished.Count == 1, TestClient.Deadline);
            Assert.Equal(CloseReason.ProxyError, Assert.Single(log.Finished).Reason);
            Assert.Equal(1, runtime.Crashes);
            Assert.Equal(1, runtime.GetStatus().Crashes);
            Assert.Equal(1, runtime.Loops.Crashes);
            Assert.Contains(log.Lines, line => line.StartsWith("1009 ", StringComparison.Ordinal));
            for (int i = 0; i < healthy.Count; i++)
            {
                Assert.Equal($"after {i}", await TestClient.EchoAsync(healthy[i], $"after {i}"));
            }

            Assert.Equal(6, runtime.GetStatus().OpenConnections);
            healthy.ForEach(socket => socket.Dispose());
        }
    }

    [Fact]
    public async Task Closes_racing_pending_reads_and_writes_end_each_connection_once_and_leave_the_others_intact()
    {
        await using var server = new LoopbackServer(LoopbackServer.EchoAsync);
        var (runtime, log, _) = await TestRuntime.StartAsync(TestConfigs.Virtual(SchedulingAlgorithm.RoundRobin,
            [TestConfigs.Real(server.Endpoint)]), DataPath.SpliceEager);
        await using (runtime)
        {
            const int count = 24;
            var clients = new Socket[count];
            for (int i = 0; i < count; i++)
            {
                clients[i] = await TestClient.ConnectAsync(runtime.Address());
            }

            // Every connection streams both ways until released; the even ones are killed mid-flight, while their
            // reads and writes (and pipes) are pending on the loop.
            var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            Task<bool>[] transfers = [.. clients.Select(client => StreamUntilAsync(client, release.Task))];
            await Eventually.TrueAsync(() => runtime.Connections().Count(c => c.BytesFromClient > 1024 * 1024) == count, TestClient.Deadline);
            var killed = new HashSet<long>();
            IReadOnlyList<ConnectionStatus> rows = runtime.Connections();
            foreach (ConnectionStatus row in rows.Where((_, index) => index % 2 == 0))
            {
                Assert.True(await runtime.CloseConnectionAsync(row.Id));
                killed.Add(row.Id);
            }

            Assert.False(await runtime.CloseConnectionAsync(killed.First()), "a closed connection was found again");
            await Task.Delay(200);
            release.SetResult();
            bool[] intact = await Task.WhenAll(transfers).WaitAsync(TimeSpan.FromSeconds(60));
            Assert.Equal(count / 2, intact.Count(ok => ok));
            await Eventually.TrueAsync(() => log.Finished.Count == count, TestClient.Deadline);
            Assert.Equal(count / 2, log.Finished.Count(f => f.Reason == CloseReason.OperatorClosed));
            Assert.Equal(count / 2, log.Finished.Count(f => f.Reason == CloseReason.ClientClosed));
            Assert.Equal(count / 2, runtime.GetStatus().CountOf(CloseReason.OperatorClosed));
            Assert.Equal(0, runtime.Loops.Crashes);
            Assert.Equal(0, await runtime.Loops.HeldBuffersAsync());
            Assert.Equal(0, await runtime.Loops.HeldPipesAsync());
            foreach (Socket client in clients)
            {
                client.Dispose();
            }
        }
    }

    [Fact]
    public async Task Ten_thousand_connections_opened_and_closed_concurrently_each_get_exactly_their_own_bytes()
    {
        const int total = 10_000;
        const int concurrency = 400;
        await using var server = new LoopbackServer(LoopbackServer.EchoAsync);
        var (runtime, log, _) = await TestRuntime.StartAsync(TestConfigs.Virtual(SchedulingAlgorithm.RoundRobin,
            [TestConfigs.Real(server.Endpoint)]));
        await using (runtime)
        {
            int next = -1;
            int verified = 0;
            var failures = new ConcurrentQueue<string>();
            var watch = System.Diagnostics.Stopwatch.StartNew();
            await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async _ =>
            {
                while (Interlocked.Increment(ref next) is int i && i < total)
                {
                    // Each connection's payload is unique (its index, then random bytes of a random size), so a byte
                    // delivered to the wrong connection (a reused descriptor) fails the comparison.
                    byte[] payload = RandomNumberGenerator.GetBytes(16 + Random.Shared.Next(48 * 1024));
                    BitConverter.TryWriteBytes(payload, i);
                    try
                    {
                        using Socket client = await TestClient.ConnectAsync(runtime.Address());
                        if (await EchoAndVerifyAsync(client, payload))
                        {
                            Interlocked.Increment(ref verified);
                        }
                        else
                        {
                            failures.Enqueue($"connection {i}: echo differs");
                        }
                    }
                    catch (Exception error) when (error is SocketException or OperationCanceledException)
                    {
                        failures.Enqueue($"connection {i}: {error.Message}");
                    }
                }
            })).WaitAsync(TimeSpan.FromMinutes(5));
            output.WriteLine($"{total} connections, {concurrency} at a time: {watch.Elapsed.TotalSeconds:F1} s; stale events dropped: {runtime.Loops.StaleEvents}");
            Assert.Empty(failures);
            Assert.Equal(total, verified);
            await Eventually.TrueAsync(() => log.Finished.Count == total, TestClient.Deadline);
            Assert.All(log.Finished, f => Assert.Equal(CloseReason.ClientClosed, f.Reason));
            Assert.Equal(total, runtime.GetStatus().CloseReasons.Sum(c => c.Count));
            Assert.Equal(0, runtime.GetStatus().OpenConnections);
            Assert.Equal(0, runtime.Loops.Crashes);
            Assert.Equal(0, await runtime.Loops.HeldBuffersAsync());
        }
    }

    /// <summary>Sends random chunks while reading the echo until <paramref name="release"/>, then half-closes and
    /// compares what came back with what was sent; false when the connection was reset or the echo differs.</summary>
    private static async Task<bool> StreamUntilAsync(Socket client, Task release)
    {
        using var sent = System.Security.Cryptography.IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        try
        {
            Task<byte[]> receive = ReceiveAllAsync(client);
            byte[] chunk = new byte[32 * 1024];
            while (!release.IsCompleted)
            {
                RandomNumberGenerator.Fill(chunk);
                await client.SendAsync(chunk);
                sent.AppendData(chunk);
            }

            client.Shutdown(SocketShutdown.Send);
            byte[] echoed = await receive.WaitAsync(TestClient.Deadline);
            return SHA256.HashData(echoed).AsSpan().SequenceEqual(sent.GetHashAndReset());
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>Sends <paramref name="payload"/> while reading the echo, half-closes, and compares; false when the
    /// connection was reset or the echo differs.</summary>
    private static async Task<bool> EchoAndVerifyAsync(Socket client, byte[] payload)
    {
        try
        {
            Task<byte[]> receive = ReceiveAllAsync(client);
            for (int offset = 0; offset < payload.Length; offset += 64 * 1024)
            {
                await client.SendAsync(payload.AsMemory(offset, Math.Min(64 * 1024, payload.Length - offset)));
            }

            client.Shutdown(SocketShutdown.Send);
            byte[] echoed = await receive.WaitAsync(TestClient.Deadline);
            return echoed.AsSpan().SequenceEqual(payload);
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static async Task<byte[]> ReceiveAllAsync(Socket socket)
    {
        using var all = new MemoryStream();
        var buffer = new byte[64 * 1024];
        while (true)
        {
            int read = await socket.ReceiveAsync(buffer);
            if (read == 0)
            {
                return all.ToArray();
            }

            all.Write(buffer, 0, read);
        }
    }

    private sealed class RecordingHandler(string name) : ILoopHandler
    {
        public int Events { get; private set; }

        public Action? OnEvent { get; init; }

        public override string ToString() => name;

        public void OnEvents(int kind, int attempt, uint events)
        {
            Events++;
            OnEvent?.Invoke();
        }

        public void OnCrashed(Exception error) => throw new InvalidOperationException($"{name} crashed", error);
    }

    /// <summary>The real kernel, except that a send whose bytes start with <paramref name="marker"/> throws, as a bug
    /// in one connection's handling would.</summary>
    private sealed unsafe class FaultyKernel(byte[] marker) : ILoopKernel
    {
        private readonly LinuxLoopKernel _real = LinuxLoopKernel.Instance;

        public long Send(int fd, byte* buffer, int length)
        {
            if (length >= marker.Length && new ReadOnlySpan<byte>(buffer, marker.Length).SequenceEqual(marker))
            {
                throw new InvalidOperationException("injected fault in one connection's send");
            }

            return _real.Send(fd, buffer, length);
        }

        public int EpollCreate() => _real.EpollCreate();
        public int EpollAdd(int epollFd, int fd, uint events, ulong token) => _real.EpollAdd(epollFd, fd, events, token);
        public int EpollDelete(int epollFd, int fd) => _real.EpollDelete(epollFd, fd);
        public int EpollWait(int epollFd, EpollEvents events, int timeoutMs) => _real.EpollWait(epollFd, events, timeoutMs);
        public int EventFdCreate() => _real.EventFdCreate();
        public int EventFdSignal(int fd) => _real.EventFdSignal(fd);
        public int EventFdDrain(int fd) => _real.EventFdDrain(fd);
        public int TcpSocket(int family) => _real.TcpSocket(family);
        public int SetOption(int fd, int level, int name, int value) => _real.SetOption(fd, level, name, value);
        public int GetOption(int fd, int level, int name, out int value) => _real.GetOption(fd, level, name, out value);
        public int SetLingerZero(int fd) => _real.SetLingerZero(fd);
        public int Bind(int fd, in SocketAddressBuffer address) => _real.Bind(fd, address);
        public int Listen(int fd, int backlog) => _real.Listen(fd, backlog);
        public int Accept(int listenFd, out SocketAddressBuffer peer) => _real.Accept(listenFd, out peer);
        public int Connect(int fd, in SocketAddressBuffer address) => _real.Connect(fd, address);
        public int LocalAddress(int fd, out SocketAddressBuffer address) => _real.LocalAddress(fd, out address);
        public long Receive(int fd, byte* buffer, int length) => _real.Receive(fd, buffer, length);
        public long Splice(int fromFd, int toFd, int length) => _real.Splice(fromFd, toFd, length);
        public int Shutdown(int fd, int how) => _real.Shutdown(fd, how);
        public int Close(int fd) => _real.Close(fd);
        public int Pipe(int size, out int readFd, out int writeFd) => _real.Pipe(size, out readFd, out writeFd);
    }

    /// <summary>A kernel whose epoll returns the batches a test delivers (nothing else is used by these tests).</summary>
    private sealed unsafe class ScriptedKernel : ILoopKernel
    {
        private const ulong WakeToken = ulong.MaxValue;
        private readonly BlockingCollection<(ulong Token, uint Events)[]> _batches = [];

        public void Deliver((ulong Token, uint Events)[] batch) => _batches.Add(batch);

        public int EpollWait(int epollFd, EpollEvents events, int timeoutMs)
        {
            if (!_batches.TryTake(out var batch, timeoutMs < 0 ? Timeout.Infinite : timeoutMs))
            {
                return 0;
            }

            for (int i = 0; i < batch.Length; i++)
            {
                events.Set(i, batch[i].Events, batch[i].Token);
            }

            return batch.Length;
        }

        public int EventFdSignal(int fd)
        {
            _batches.Add([(WakeToken, LinuxConstants.EpollIn)]);
            return 8;
        }

        public int EpollCreate() => 1000;
        public int EventFdCreate() => 1001;
        public int EpollAdd(int epollFd, int fd, uint events, ulong token) => 0;
        public int EpollDelete(int epollFd, int fd) => 0;
        public int EventFdDrain(int fd) => 8;
        public int Close(int fd) => 0;
        public int TcpSocket(int family) => throw new NotSupportedException();
        public int SetOption(int fd, int level, int name, int value) => throw new NotSupportedException();
        public int GetOption(int fd, int level, int name, out int value) => throw new NotSupportedException();
        public int SetLingerZero(int fd) => throw new NotSupportedException();
        public int Bind(int fd, in SocketAddressBuffer address) => throw new NotSupportedException();
        public int Listen(int fd, int backlog) => throw new NotSupportedException();
        public int Accept(int listenFd, out SocketAddressBuffer peer) => throw new NotSupportedException();
        public int Connect(int fd, in SocketAddressBuffer address) => throw new NotSupportedException();
        public int LocalAddress(int fd, out SocketAddressBuffer address) => throw new NotSupportedException();
        public long Receive(int fd, byte* buffer, int length) => throw new NotSupportedException();
        public long Send(int fd, byte* buffer, int length) => throw new NotSupportedException();
        public long Splice(int fromFd, int toFd, int length) => throw new NotSupportedException();
        public int Shutdown(int fd, int how) => throw new NotSupportedException();
        public int Pipe(int size, out int readFd, out int writeFd) => throw new NotSupportedException();
    }
}
