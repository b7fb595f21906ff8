using System.Diagnostics;
using System.Net.Sockets;
using VipProxy.Config.Model;
using VipProxy.Forwarding.Relay;
using VipProxy.Forwarding.Runtime;
using VipProxy.Forwarding.Tests.Support;

namespace VipProxy.Forwarding.Tests.Relay;

/// <summary>What only the splice relay has: kernel pipes that idle connections give back, and no corking.</summary>
[Collection(TimingCollection.Name)]
public class SpliceRelayTests
{
    [Fact]
    public async Task An_idle_connection_holds_no_pipe_and_pipes_are_reused()
    {
        // A pipe size no other test uses, so this pool is this test's alone.
        const int pipeSize = 20 * 1024;
        KernelPipePool pool = KernelPipePool.ForSize(pipeSize);
        await using var server = LoopbackServer.IdEcho("A");
        var log = new CapturingLogger();
        await using var runtime = new VirtualServerRuntime(
            TestConfigs.Virtual(SchedulingAlgorithm.RoundRobin, [TestConfigs.Real(server.Endpoint)]),
            logger: log, relay: new SpliceRelay(pipeSize, copyThreshold: 0));
        await runtime.StartAsync();

        var clients = new List<Socket>();
        for (int i = 0; i < 4; i++)
        {
            Socket client = await TestClient.ConnectAsync(runtime.Address());
            clients.Add(client);
            Assert.Equal("A", await TestClient.ReadLineAsync(client));
            for (int round = 0; round < 5; round++)
            {
                Assert.Equal($"ping {round}", await TestClient.EchoAsync(client, $"ping {round}"));
            }
        }

        // Every connection is idle now: every pipe ever made is back in the pool (none is held per connection),
        // and bursts reused pipes instead of making one each (4 connections × 2 directions × 6 bursts).
        await Eventually.TrueAsync(() => pool.IdleCount == pool.Created, TestClient.Deadline);
        Assert.InRange(pool.Created, 1, 4);
        foreach (Socket client in clients)
        {
            client.Shutdown(SocketShutdown.Send);
            Assert.Null(await TestClient.ReadLineAsync(client));
            client.Dispose();
        }

        await Eventually.TrueAsync(() => log.Finished.Count == 4, TestClient.Deadline);
        Assert.All(log.Finished, finished => Assert.Equal(CloseReason.ClientClosed, finished.Reason));
        Assert.Equal(pool.Created, pool.IdleCount);
    }

    [Fact]
    public async Task Small_messages_are_copied_without_a_pipe_and_bulk_bursts_are_spliced()
    {
        // A pipe size no other test uses, so this pool is this test's alone.
        const int pipeSize = 28 * 1024;
        KernelPipePool pool = KernelPipePool.ForSize(pipeSize);
        await using var server = LoopbackServer.IdEcho("A");
        var log = new CapturingLogger();
        await using var runtime = new VirtualServerRuntime(
            TestConfigs.Virtual(SchedulingAlgorithm.RoundRobin, [TestConfigs.Real(server.Endpoint)]),
            logger: log, relay: new SpliceRelay(pipeSize, copyThreshold: 4096));
        await runtime.StartAsync();

        using Socket client = await TestClient.ConnectAsync(runtime.Address());
        Assert.Equal("A", await TestClient.ReadLineAsync(client));
        for (int round = 0; round < 20; round++)
        {
            Assert.Equal($"small {round}", await TestClient.EchoAsync(client, $"small {round}"));
        }

        // Request/response traffic below the copy threshold never needed a pipe.
        Assert.Equal(0, pool.Created);

        // A bulk burst: reads fill the small buffer, so the direction switches to splice; byte-exact both ways.
        byte[] bulk = System.Security.Cryptography.RandomNumberGenerator.GetBytes(3 * 1024 * 1024 + 17);
        var echoed = new byte[bulk.Length];
        Task receive = Task.Run(async () =>
        {
            int offset = 0;
            while (offset < echoed.Length)
            {
                int read = await client.ReceiveAsync(echoed.AsMemory(offset));
                Assert.NotEqual(0, read);
                offset += read;
            }
        });
        int sent = 0;
        while (sent < bulk.Length)
        {
            sent += await client.SendAsync(bulk.AsMemory(sent, Math.Min(64 * 1024, bulk.Length - sent)));
        }

        await receive.WaitAsync(TestClient.Deadline);
        Assert.Equal(bulk, echoed);
        Assert.InRange(pool.Created, 1, 2);

        // Back to small messages: they still flow, and the pipes went back to the pool.
        for (int round = 0; round < 5; round++)
        {
            Assert.Equal($"again {round}", await TestClient.EchoAsync(client, $"again {round}"));
        }

        await Eventually.TrueAsync(() => pool.IdleCount == pool.Created, TestClient.Deadline);
        client.Shutdown(SocketShutdown.Send);
        Assert.Null(await TestClient.ReadLineAsync(client));
        await Eventually.TrueAsync(() => log.Finished.Count == 1, TestClient.Deadline);
        Assert.Equal(CloseReason.ClientClosed, Assert.Single(log.Finished).Reason);
        Assert.Equal(bulk.Length + (10L * 8) + (10 * 9) + (5 * 8), log.Finished.Single().BytesFromClient);
    }

    [Fact]
    public async Task Small_request_response_exchanges_are_not_corked()
    {
        await using var server = LoopbackServer.IdEcho("A");
        var (runtime, _, _) = await TestRuntime.StartAsync(
            TestConfigs.Virtual(SchedulingAlgorithm.RoundRobin, [TestConfigs.Real(server.Endpoint)]), RelayKind.Splice);
        await using (runtime)
        {
            using Socket client = await TestClient.ConnectAsync(runtime.Address());
            Assert.Equal("A", await TestClient.ReadLineAsync(client));
            var watch = Stopwatch.StartNew();
            for (int i = 0; i < 50; i++)
            {
                Assert.Equal($"q{i}", await TestClient.EchoAsync(client, $"q{i}"));
            }

            // SPLICE_F_MORE towards a socket would hold each small reply back ~200 ms (10 s here).
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(3), $"50 round trips took {watch.Elapsed.TotalMilliseconds:F0} ms");
        }
    }

    [Theory]
    [InlineData(104, SocketError.ConnectionReset)]
    [InlineData(32, SocketError.Shutdown)]
    [InlineData(103, SocketError.ConnectionAborted)]
    [InlineData(110, SocketError.TimedOut)]
    [InlineData(9, SocketError.OperationAborted)]
    [InlineData(5, SocketError.SocketError)]
    public void Errno_values_map_to_the_socket_errors_a_socket_call_would_report(int errno, SocketError expected) =>
        Assert.Equal(expected, SpliceRelay.ToSocketError(errno));

    [Fact]
    public void Splice_is_the_default_relay()
    {
        Assert.Equal(RelayKind.Splice, ForwarderOptions.Default.Relay);
        Assert.IsType<SpliceRelay>(RelayFactory.Create(RelayFactory.DefaultKind));
    }
}
