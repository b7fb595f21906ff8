using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using VipProxy.Config.Model;
using VipProxy.Core.ProxyProtocol;
using VipProxy.Forwarding.Tests.Support;

namespace VipProxy.Forwarding.Tests.ProxyProtocol;

/// <summary>The forwarder shows real servers the client: a PROXY header first on the stream (every data path). The
/// transparent connect from the client's address is in <see cref="TransparentForwardingTests"/>.</summary>
public class ClientAddressForwardingTests
{
    /// <summary>A real server that keeps every byte of each connection until the client's FIN, then closes.</summary>
    internal sealed class RecordingServer : IAsyncDisposable
    {
        private readonly LoopbackServer _server;

        public RecordingServer() => _server = new LoopbackServer(RecordAsync);

        public ConcurrentQueue<(IPEndPoint Remote, byte[] Bytes)> Streams { get; } = new();

        public IPEndPoint Endpoint => _server.Endpoint;

        private async Task RecordAsync(Socket socket)
        {
            var remote = (IPEndPoint)socket.RemoteEndPoint!;
            using var stream = new MemoryStream();
            var buffer = new byte[4096];
            int read;
            while ((read = await socket.ReceiveAsync(buffer)) > 0)
            {
                stream.Write(buffer, 0, read);
            }

            Streams.Enqueue((remote, stream.ToArray()));
            socket.Shutdown(SocketShutdown.Send);
        }

        public ValueTask DisposeAsync() => _server.DisposeAsync();
    }

    /// <summary>Connects, sends <paramref name="payload"/> at once (racing the proxy's connect), half-closes and
    /// waits for the proxy to close; returns the client's own endpoint.</summary>
    internal static async Task<IPEndPoint> SendAndCloseAsync(IPEndPoint proxy, string payload, string? from = null)
    {
        using Socket client = await TestClient.ConnectAsync(proxy, from);
        var own = (IPEndPoint)client.LocalEndPoint!;
        await client.SendAsync(Encoding.ASCII.GetBytes(payload));
        client.Shutdown(SocketShutdown.Send);
        Assert.Null(await TestClient.ReadLineAsync(client));
        return own;
    }

    private static byte[] Header(ProxyProtocolVersion version, IPEndPoint client, IPEndPoint virtualServer)
    {
        var buffer = new byte[ProxyProtocolHeader.MaxLength];
        int length = ProxyProtocolHeader.Write(buffer, version, client, virtualServer);
        return buffer[..length];
    }

    [Theory]
    [InlineData(DataPath.OneLoop, ProxyProtocolVersion.V1)]
    [InlineData(DataPath.OneLoop, ProxyProtocolVersion.V2)]
    [InlineData(DataPath.TwoLoops, ProxyProtocolVersion.V1)]
    [InlineData(DataPath.TwoLoops, ProxyProtocolVersion.V2)]
    [InlineData(DataPath.SpliceEager, ProxyProtocolVersion.V2)]
    public async Task The_header_comes_once_before_the_clients_first_byte(DataPath relay, ProxyProtocolVersion version)
    {
        await using var server = new RecordingServer();
        var (runtime, _, _) = await TestRuntime.StartAsync(TestConfigs.Virtual(SchedulingAlgorithm.RoundRobin,
            [TestConfigs.Real(server.Endpoint) with { SendProxy = version }]), relay);
        await using (runtime)
        {
            for (int i = 0; i < 3; i++)
            {
                IPEndPoint client = await SendAndCloseAsync(runtime.Address(), $"hello {i}\n", from: "127.0.0.7");
                await Eventually.TrueAsync(() => server.Streams.Count == i + 1, TestClient.Deadline);
                byte[] expected = [.. Header(version, client, runtime.Address()), .. Encoding.ASCII.GetBytes($"hello {i}\n")];
                Assert.Equal(expected, server.Streams.ToArray()[i].Bytes);
            }
        }
    }

    [Fact]
    public async Task Without_send_proxy_the_real_server_sees_only_the_clients_bytes()
    {
        await using var server = new RecordingServer();
        var (runtime, _, _) = await TestRuntime.StartAsync(TestConfigs.Virtual(SchedulingAlgorithm.RoundRobin,
            [TestConfigs.Real(server.Endpoint)]));
        await using (runtime)
        {
            await SendAndCloseAsync(runtime.Address(), "plain\n");
            await Eventually.TrueAsync(() => server.Streams.Count == 1, TestClient.Deadline);
            Assert.Equal("plain\n", Encoding.ASCII.GetString(server.Streams.Single().Bytes));
        }
    }

    [Fact]
    public async Task A_reload_turns_the_header_on_and_off_for_new_connections()
    {
        await using var server = new RecordingServer();
        VirtualServer plain = TestConfigs.Virtual(SchedulingAlgorithm.RoundRobin, [TestConfigs.Real(server.Endpoint)]);
        var (runtime, _, _) = await TestRuntime.StartAsync(plain);
        await using (runtime)
        {
            VirtualServer withProxy = plain with
            {
                Endpoint = runtime.Endpoint,
                RealServers = ValueList.From([plain.RealServers[0] with { SendProxy = ProxyProtocolVersion.V1 }]),
            };
            runtime.ApplyConfig(withProxy);
            IPEndPoint client = await SendAndCloseAsync(runtime.Address(), "x");
            await Eventually.TrueAsync(() => server.Streams.Count == 1, TestClient.Deadline);
            Assert.Equal($"PROXY TCP4 127.0.0.1 127.0.0.1 {client.Port} {runtime.Address().Port}\r\nx",
                Encoding.ASCII.GetString(server.Streams.Single().Bytes));

            runtime.ApplyConfig(withProxy with { RealServers = plain.RealServers });
            await SendAndCloseAsync(runtime.Address(), "y");
            await Eventually.TrueAsync(() => server.Streams.Count == 2, TestClient.Deadline);
            Assert.Equal("y", Encoding.ASCII.GetString(server.Streams.ToArray()[1].Bytes));
        }
    }
}
