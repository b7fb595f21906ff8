using System.Net.Sockets;
using System.Security.Cryptography;
using VipProxy.Config.Model;
using VipProxy.Forwarding.Relay;
using VipProxy.Forwarding.Tests.Support;

namespace VipProxy.Forwarding.Tests.Relay;

/// <summary>The relay contract on every data path (one loop, two loops, splice-eager), over real sockets: byte-exact transfer, half-close, reset propagation, close reasons.</summary>
public class RelayTests
{
    [Theory]
    [MemberData(nameof(TestRuntime.DataPaths), MemberType = typeof(TestRuntime))]
    public async Task Payloads_of_several_MB_arrive_byte_exact_both_ways_with_half_close(DataPath relay)
    {
        byte[] upload = RandomNumberGenerator.GetBytes(6 * 1024 * 1024 + 123);
        byte[] download = RandomNumberGenerator.GetBytes(5 * 1024 * 1024 + 7);
        byte[]? serverReceivedHash = null;

        // The server sends its payload while reading the client's, then, after the client's FIN, sends a trailer:
        // data flowing after a half-close proves the FIN was passed on as a half-close, not a close.
        await using var server = new LoopbackServer(async socket =>
        {
            Task send = SendAllAsync(socket, download);
            serverReceivedHash = await HashUntilEndAsync(socket);
            await send;
            await socket.SendAsync("trailer"u8.ToArray());
            socket.Shutdown(SocketShutdown.Send);
        });
        var (runtime, log, _) = await TestRuntime.StartAsync(
            TestConfigs.Virtual(SchedulingAlgorithm.RoundRobin, [TestConfigs.Real(server.Endpoint)]), relay);
        await using (runtime)
        {
            using Socket client = await TestClient.ConnectAsync(runtime.Address());
            Task<byte[]> receive = ReceiveAllAsync(client);
            await SendAllAsync(client, upload);
            client.Shutdown(SocketShutdown.Send);
            byte[] received = await receive.WaitAsync(TestClient.Deadline);

            Assert.Equal(SHA256.HashData([.. download, .. "trailer"u8.ToArray()]), SHA256.HashData(received));
            Assert.Equal(SHA256.HashData(upload), serverReceivedHash);
            await Eventually.TrueAsync(() => !log.Finished.IsEmpty, TestClient.Deadline);
            FinishedConnection finished = Assert.Single(log.Finished);
            Assert.Equal(CloseReason.ClientClosed, finished.Reason);
            Assert.Equal(ConnectionSide.Client, finished.Side);
            Assert.Equal(upload.Length, finished.BytesFromClient);
            Assert.Equal(download.Length + 7, finished.BytesFromServer);
        }
    }

    [Theory]
    [MemberData(nameof(TestRuntime.DataPaths), MemberType = typeof(TestRuntime))]
    public async Task Server_closing_first_is_recorded_once_as_real_server_closed(DataPath relay)
    {
        await using var server = new LoopbackServer(async socket =>
        {
            await socket.SendAsync("bye\n"u8.ToArray());
            socket.Shutdown(SocketShutdown.Send);
            await TestClient.DrainAsync(socket, CancellationToken.None);
        });
        var (runtime, log, _) = await TestRuntime.StartAsync(
            TestConfigs.Virtual(SchedulingAlgorithm.RoundRobin, [TestConfigs.Real(server.Endpoint)]), relay);
        await using (runtime)
        {
            for (int i = 0; i < 5; i++)
            {
                using Socket client = await TestClient.ConnectAsync(runtime.Address());
                Assert.Equal("bye", await TestClient.ReadLineAsync(client));
                Assert.Null(await TestClient.ReadLineAsync(client)); // the FIN arrived
                await client.SendAsync("late data after the server's FIN is still delivered\n"u8.ToArray());
                client.Shutdown(SocketShutdown.Send);
            }

            await Eventually.TrueAsync(() => log.Finished.Count == 5, TestClient.Deadline);
            Assert.All(log.Finished, finished =>
            {
                Assert.Equal(CloseReason.RealServerClosed, finished.Reason);
                Assert.Equal(ConnectionSide.RealServer, finished.Side);
            });
            Assert.Equal(5, runtime.GetStatus().CountOf(CloseReason.RealServerClosed));
            Assert.Equal(5, runtime.GetStatus().CloseReasons.Sum(count => count.Count));
        }
    }

    [Theory]
    [MemberData(nameof(TestRuntime.DataPaths), MemberType = typeof(TestRuntime))]
    public async Task A_client_reset_resets_the_real_server_side(DataPath relay)
    {
        var serverSaw = new TaskCompletionSource<SocketError>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = new LoopbackServer(async socket =>
        {
            await socket.SendAsync("ready\n"u8.ToArray());
            try
            {
                await TestClient.DrainAsync(socket, CancellationToken.None);
                serverSaw.TrySetResult(SocketError.Success);
            }
            catch (SocketException error)
            {
                serverSaw.TrySetResult(error.SocketErrorCode);
            }
        });
        var (runtime, log, _) = await TestRuntime.StartAsync(
            TestConfigs.Virtual(SchedulingAlgorithm.RoundRobin, [TestConfigs.Real(server.Endpoint)]), relay);
        await using (runtime)
        {
            Socket client = await TestClient.ConnectAsync(runtime.Address());
            Assert.Equal("ready", await TestClient.ReadLineAsync(client));
            TestClient.Reset(client);

            Assert.Equal(SocketError.ConnectionReset, await serverSaw.Task.WaitAsync(TestClient.Deadline));
            await Eventually.TrueAsync(() => !log.Finished.IsEmpty, TestClient.Deadline);
            FinishedConnection finished = Assert.Single(log.Finished);
            Assert.Equal(CloseReason.ClientReset, finished.Reason);
            Assert.Equal(ConnectionSide.Client, finished.Side);
        }
    }

    [Theory]
    [MemberData(nameof(TestRuntime.DataPaths), MemberType = typeof(TestRuntime))]
    public async Task A_real_server_reset_resets_the_client_side(DataPath relay)
    {
        await using var server = new LoopbackServer(async socket =>
        {
            await socket.SendAsync("ready\n"u8.ToArray());
            await Task.Delay(100);
            TestClient.Reset(socket);
        });
        var (runtime, log, _) = await TestRuntime.StartAsync(
            TestConfigs.Virtual(SchedulingAlgorithm.RoundRobin, [TestConfigs.Real(server.Endpoint)]), relay);
        await using (runtime)
        {
            using Socket client = await TestClient.ConnectAsync(runtime.Address());
            Assert.Equal("ready", await TestClient.ReadLineAsync(client));
            SocketException error = await Assert.ThrowsAsync<SocketException>(
                () => TestClient.DrainAsync(client, new CancellationTokenSource(TestClient.Deadline).Token));
            Assert.Equal(SocketError.ConnectionReset, error.SocketErrorCode);

            await Eventually.TrueAsync(() => !log.Finished.IsEmpty, TestClient.Deadline);
            FinishedConnection finished = Assert.Single(log.Finished);
            Assert.Equal(CloseReason.RealServerReset, finished.Reason);
            Assert.Equal(ConnectionSide.RealServer, finished.Side);
        }
    }

    [Theory]
    [MemberData(nameof(TestRuntime.DataPaths), MemberType = typeof(TestRuntime))]
    public async Task Many_concurrent_connections_each_record_exactly_one_close_reason(DataPath relay)
    {
        await using var server = LoopbackServer.IdEcho("A");
        var (runtime, log, _) = await TestRuntime.StartAsync(
            TestConfigs.Virtual(SchedulingAlgorithm.RoundRobin, [TestConfigs.Real(server.Endpoint)]), relay);
        await using (runtime)
        {
            const int count = 60;
            await Task.WhenAll(Enumerable.Range(0, count).Select(async i =>
            {
                using Socket client = await TestClient.ConnectAsync(runtime.Address());
                Assert.Equal("A", await TestClient.ReadLineAsync(client));
                Assert.Equal($"hello {i}", await TestClient.EchoAsync(client, $"hello {i}"));
                if (i % 3 == 0)
                {
                    TestClient.Reset(client);
                }
                else
                {
                    client.Shutdown(SocketShutdown.Send);
                    Assert.Null(await TestClient.ReadLineAsync(client));
                }
            }));

            await Eventually.TrueAsync(() => log.Finished.Count == count, TestClient.Deadline);
            Assert.Equal(count / 3, log.Finished.Count(f => f.Reason == CloseReason.ClientReset));
            Assert.Equal(count - count / 3, log.Finished.Count(f => f.Reason == CloseReason.ClientClosed));
            var status = runtime.GetStatus();
            Assert.Equal(count, status.CloseReasons.Sum(c => c.Count));
            Assert.Equal(0, status.OpenConnections);
            var real = status.Find(server.Endpoint)!;
            Assert.Equal(0, real.ActiveConnections);
            Assert.Equal(0, real.InactiveConnections);
            Assert.Equal(count, real.TotalConnections);
        }
    }

    internal static async Task SendAllAsync(Socket socket, byte[] data)
    {
        for (int offset = 0; offset < data.Length; offset += 100_000)
        {
            await socket.SendAsync(data.AsMemory(offset, Math.Min(100_000, data.Length - offset)));
        }
    }

    private static async Task<byte[]> HashUntilEndAsync(Socket socket)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[64 * 1024];
        while (true)
        {
            int read = await socket.ReceiveAsync(buffer);
            if (read == 0)
            {
                return hash.GetHashAndReset();
            }

            hash.AppendData(buffer, 0, read);
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
}
