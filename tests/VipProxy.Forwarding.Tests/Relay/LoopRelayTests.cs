using System.Diagnostics;
using System.Net.Sockets;
using System.Security.Cryptography;
using VipProxy.Config.Model;
using VipProxy.Forwarding.Loop;
using VipProxy.Forwarding.Relay;
using VipProxy.Forwarding.Tests.Support;

namespace VipProxy.Forwarding.Tests.Relay;

/// <summary>What the loops' relay promises beyond the contract: idle connections hold nothing, small messages are
/// copied, bulk is spliced through pipes that go back to the pool, nothing is corked.</summary>
[Collection(TimingCollection.Name)]
public class LoopRelayTests
{
    [Theory]
    [MemberData(nameof(TestRuntime.DataPaths), MemberType = typeof(TestRuntime))]
    public async Task An_idle_connection_holds_no_buffer_and_no_pipe(DataPath path)
    {
        await using var server = LoopbackServer.IdEcho("A");
        var (runtime, log, _) = await TestRuntime.StartAsync(
            TestConfigs.Virtual(SchedulingAlgorithm.RoundRobin, [TestConfigs.Real(server.Endpoint)]), path);
        await using (runtime)
        {
            var clients = new List<Socket>();
            byte[] bulk = RandomNumberGenerator.GetBytes(2 * 1024 * 1024);
            for (int i = 0; i < 4; i++)
            {
                Socket client = await TestClient.ConnectAsync(runtime.Address());
                clients.Add(client);
                Assert.Equal("A", await TestClient.ReadLineAsync(client));
                for (int round = 0; round < 5; round++)
                {
                    Assert.Equal($"ping {round}", await TestClient.EchoAsync(client, $"ping {round}"));
                }

                // A bulk echo too, so every path (copy and splice) has run before the connection goes idle.
                Assert.Equal(bulk, await EchoBulkAsync(client, bulk));
            }

            // Every connection is idle now: none holds a relay buffer or a pipe, and the loops' pools hold what
            // was used (no buffer or pipe per connection).
            await Eventually.TrueAsync(() => runtime.ConnectionsHoldingBuffersAsync().GetAwaiter().GetResult() == 0, TestClient.Deadline);
            Assert.Equal(0, await runtime.Loops.HeldBuffersAsync());
            Assert.Equal(0, await runtime.Loops.HeldPipesAsync());
            Assert.InRange(await runtime.Loops.CreatedPipesAsync(), 0, 2 * runtime.Loops.Count);
            foreach (Socket client in clients)
            {
                client.Shutdown(SocketShutdown.Send);
                Assert.Null(await TestClient.ReadLineAsync(client));
                client.Dispose();
            }

            await Eventually.TrueAsync(() => log.Finished.Count == 4, TestClient.Deadline);
            Assert.All(log.Finished, finished => Assert.Equal(CloseReason.ClientClosed, finished.Reason));
        }
    }

    [Fact]
    public async Task Small_messages_are_copied_without_a_pipe_and_bulk_bursts_are_spliced()
    {
        await using var server = LoopbackServer.IdEcho("A");
        var (runtime, log, _) = await TestRuntime.StartAsync(
            TestConfigs.Virtual(SchedulingAlgorithm.RoundRobin, [TestConfigs.Real(server.Endpoint)]), DataPath.OneLoop);
        await using (runtime)
        {
            using Socket client = await TestClient.ConnectAsync(runtime.Address());
            Assert.Equal("A", await TestClient.ReadLineAsync(client));
            for (int round = 0; round < 20; round++)
            {
                Assert.Equal($"small {round}", await TestClient.EchoAsync(client, $"small {round}"));
            }

            // Request/response traffic below the copy size never needed a pipe.
            Assert.Equal(0, await runtime.Loops.CreatedPipesAsync());

            // A bulk burst: reads fill the copy buffer, so the direction switches to splice; byte-exact both ways.
            byte[] bulk = RandomNumberGenerator.GetBytes(3 * 1024 * 1024 + 17);
            Assert.Equal(bulk, await EchoBulkAsync(client, bulk));
            Assert.InRange(await runtime.Loops.CreatedPipesAsync(), 1, 2);

            // Back to small messages: they still flow, and the pipes went back to the pool.
            for (int round = 0; round < 5; round++)
            {
                Assert.Equal($"again {round}", await TestClient.EchoAsync(client, $"again {round}"));
            }

            await Eventually.TrueAsync(() => runtime.Loops.HeldPipesAsync().GetAwaiter().GetResult() == 0, TestClient.Deadline);
            client.Shutdown(SocketShutdown.Send);
            Assert.Null(await TestClient.ReadLineAsync(client));
            await Eventually.TrueAsync(() => log.Finished.Count == 1, TestClient.Deadline);
            Assert.Equal(CloseReason.ClientClosed, Assert.Single(log.Finished).Reason);
            Assert.Equal(bulk.Length + (10L * 8) + (10 * 9) + (5 * 8), log.Finished.Single().BytesFromClient);
        }
    }

    [Theory]
    [MemberData(nameof(TestRuntime.DataPaths), MemberType = typeof(TestRuntime))]
    public async Task Small_request_response_exchanges_are_not_corked(DataPath path)
    {
        await using var server = LoopbackServer.IdEcho("A");
        var (runtime, _, _) = await TestRuntime.StartAsync(
            TestConfigs.Virtual(SchedulingAlgorithm.RoundRobin, [TestConfigs.Real(server.Endpoint)]), path);
        await using (runtime)
        {
            using Socket client = await TestClient.ConnectAsync(runtime.Address());
            Assert.Equal("A", await TestClient.ReadLineAsync(client));
            var watch = Stopwatch.StartNew();
            for (int i = 0; i < 50; i++)
            {
                Assert.Equal($"q{i}", await TestClient.EchoAsync(client, $"q{i}"));
            }

            // SPLICE_F_MORE towards a socket, or Nagle, would hold each small reply back ~40-200 ms (2-10 s here).
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(3), $"50 round trips took {watch.Elapsed.TotalMilliseconds:F0} ms");
        }
    }

    [Theory]
    [InlineData(104, SocketError.ConnectionReset)]
    [InlineData(32, SocketError.Shutdown)]
    [InlineData(103, SocketError.ConnectionAborted)]
    [InlineData(110, SocketError.TimedOut)]
    [InlineData(111, SocketError.ConnectionRefused)]
    [InlineData(9, SocketError.OperationAborted)]
    [InlineData(5, SocketError.SocketError)]
    public void Errno_values_map_to_the_socket_errors_a_socket_call_would_report(int errno, SocketError expected) =>
        Assert.Equal(expected, Errno.ToSocketError(errno));

    [Fact]
    public void Every_close_reason_has_a_counter_slot_and_a_side()
    {
        // CloseReasonSides.Count once was `(int)Shutdown + 1`: a reason added after Shutdown indexed past the counter
        // arrays. It must cover every value of the enum, whatever its order.
        CloseReason[] reasons = Enum.GetValues<CloseReason>();
        Assert.Equal(reasons.Length, CloseReasonSides.Count);
        Assert.All(reasons, reason => Assert.InRange((int)reason, 0, CloseReasonSides.Count - 1));
        Assert.Equal(ConnectionSide.Proxy, CloseReason.OperatorClosed.SideOf());
        Assert.Equal(ConnectionSide.Proxy, CloseReason.ProxyError.SideOf());
        Assert.Equal(reasons.Length, new VipProxy.Forwarding.Runtime.VirtualServerTrafficStatus(
            new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 1), null, SchedulingAlgorithm.RoundRobin, false, 0, 0, null, false,
            [], null, [.. reasons.Select(reason => new VipProxy.Forwarding.Runtime.CloseReasonCount(reason, 1))]).CloseReasons.Sum(count => (int)count.Count));
    }

    internal static async Task<byte[]> EchoBulkAsync(Socket client, byte[] bulk)
    {
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
        return echoed;
    }
}
