using System.Net;
using System.Net.Sockets;
using System.Text;
using VipProxy.Config.Model;
using VipProxy.Core.ProxyProtocol;
using VipProxy.Forwarding.Relay;
using VipProxy.Forwarding.Tests.Support;
using static VipProxy.Forwarding.Tests.ProxyProtocol.ClientAddressForwardingTests;

namespace VipProxy.Forwarding.Tests.ProxyProtocol;

/// <summary>The forwarder connects to real servers from the client's own address (<c>transparent</c>,
/// IP_TRANSPARENT): needs CAP_NET_ADMIN.</summary>
[Trait("Category", "Root")]
public class TransparentForwardingTests
{
    [Fact]
    public async Task Transparent_connects_to_the_real_server_from_the_clients_address()
    {
        await using var server = new RecordingServer();
        VirtualServer config = TestConfigs.Virtual(SchedulingAlgorithm.RoundRobin, [TestConfigs.Real(server.Endpoint)]);
        var (runtime, _, _) = await TestRuntime.StartAsync(config with { Transparent = true });
        await using (runtime)
        {
            await SendAndCloseAsync(runtime.Address(), "from .9\n", from: "127.0.0.9");
            await SendAndCloseAsync(runtime.Address(), "from .10\n", from: "127.0.0.10");
            await Eventually.TrueAsync(() => server.Streams.Count == 2, TestClient.Deadline);
            Assert.Equal(
                ["127.0.0.10", "127.0.0.9"],
                server.Streams.Select(s => s.Remote.Address.ToString()).Order(StringComparer.Ordinal));
        }
    }

    [Fact]
    public async Task Transparent_works_for_ipv6_clients_of_ipv6_real_servers()
    {
        using var listener = new TcpListener(IPAddress.IPv6Loopback, 0);
        listener.Start();
        var realServer = (IPEndPoint)listener.LocalEndpoint;
        VirtualServer config = TestConfigs.Virtual(SchedulingAlgorithm.RoundRobin,
            [TestConfigs.Real(realServer) with { SendProxy = ProxyProtocolVersion.V1 }], address: "::1");
        var (runtime, log, _) = await TestRuntime.StartAsync(config with { Transparent = true });
        await using (runtime)
        {
            using var client = new Socket(AddressFamily.InterNetworkV6, SocketType.Stream, ProtocolType.Tcp);
            await client.ConnectAsync(runtime.Address());
            using Socket accepted = await listener.AcceptSocketAsync();
            var own = (IPEndPoint)client.LocalEndPoint!;
            Assert.Equal(IPAddress.IPv6Loopback, ((IPEndPoint)accepted.RemoteEndPoint!).Address);

            // Transparent and PROXY together: the header still names the client and the virtual server.
            string expected = $"PROXY TCP6 ::1 ::1 {own.Port} {runtime.Address().Port}\r\n";
            var buffer = new byte[expected.Length];
            int filled = 0;
            while (filled < buffer.Length)
            {
                filled += await accepted.ReceiveAsync(buffer.AsMemory(filled), SocketFlags.None);
            }

            Assert.Equal(expected, Encoding.ASCII.GetString(buffer));
            Assert.DoesNotContain(log.Lines, line => line.StartsWith("1011 ", StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task A_reload_turns_transparent_on_for_new_connections()
    {
        await using var server = new RecordingServer();
        VirtualServer plain = TestConfigs.Virtual(SchedulingAlgorithm.RoundRobin, [TestConfigs.Real(server.Endpoint)]);
        var (runtime, _, _) = await TestRuntime.StartAsync(plain);
        await using (runtime)
        {
            await SendAndCloseAsync(runtime.Address(), "before\n", from: "127.0.0.9");
            await Eventually.TrueAsync(() => server.Streams.Count == 1, TestClient.Deadline);
            Assert.Equal("127.0.0.1", server.Streams.Single().Remote.Address.ToString());

            runtime.ApplyConfig(plain with { Endpoint = runtime.Endpoint, Transparent = true });
            await SendAndCloseAsync(runtime.Address(), "after\n", from: "127.0.0.9");
            await Eventually.TrueAsync(() => server.Streams.Count == 2, TestClient.Deadline);
            Assert.Equal("127.0.0.9", server.Streams.ToArray()[1].Remote.Address.ToString());
        }
    }

    [Fact]
    public async Task Transparent_refuses_a_client_it_cannot_impersonate_and_says_why()
    {
        await using var server = new RecordingServer();
        VirtualServer config = TestConfigs.Virtual(SchedulingAlgorithm.RoundRobin, [TestConfigs.Real(server.Endpoint)], address: "::1");
        var (runtime, log, sink) = await TestRuntime.StartAsync(config with { Transparent = true });
        await using (runtime)
        {
            // An IPv6 client cannot be the source of a connect to an IPv4 real server.
            using var client = new Socket(AddressFamily.InterNetworkV6, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                await client.ConnectAsync(runtime.Address());
            }
            catch (SocketException)
            {
                // The reset can beat the connect's completion on loopback; either way the client is refused.
            }

            await Eventually.TrueAsync(() => runtime.GetStatus().CountOf(CloseReason.TransparentBindFailed) == 1, TestClient.Deadline);
            Assert.Contains(log.Lines, line => line.StartsWith("1011 ", StringComparison.Ordinal)
                && line.Contains("different address families", StringComparison.Ordinal));
            Assert.Empty(sink.Failures);
            Assert.Equal(0, runtime.GetStatus().RealServers.Single().FailedConnects);
            Assert.Empty(server.Streams);
        }
    }
}
