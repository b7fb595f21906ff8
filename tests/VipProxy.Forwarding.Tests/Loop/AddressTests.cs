using System.Net;
using System.Net.Sockets;
using VipProxy.Config.Model;
using VipProxy.Forwarding.Loop;
using VipProxy.Forwarding.Tests.Support;

namespace VipProxy.Forwarding.Tests.Loop;

/// <summary>Addresses as the loops pass them to the kernel, and an IPv6 virtual server end to end.</summary>
public class AddressTests
{
    [Theory]
    [InlineData("198.18.0.9", 40000)]
    [InlineData("0.0.0.0", 0)]
    [InlineData("2001:db8::2", 3306)]
    [InlineData("::1", 65535)]
    [InlineData("::ffff:198.18.0.9", 8066)]
    public void An_endpoint_round_trips_through_the_raw_socket_address(string address, int port)
    {
        var endpoint = new IPEndPoint(IPAddress.Parse(address), port);
        SocketAddressBuffer raw = SocketAddressBuffer.From(endpoint);
        Assert.Equal(endpoint.AddressFamily == AddressFamily.InterNetwork ? 16 : 28, raw.Length);
        Assert.Equal(endpoint, raw.ToEndPoint());
        Assert.Equal(port, raw.Port);
        Assert.Equal(0, raw.WithPortZero().Port);
    }

    [Fact]
    public async Task An_ipv6_virtual_server_relays_to_an_ipv6_real_server()
    {
        await using var server = LoopbackServer.IdEcho("six", address: "::1");
        var (runtime, log, _) = await TestRuntime.StartAsync(TestConfigs.Virtual(SchedulingAlgorithm.RoundRobin,
            [TestConfigs.Real(server.Endpoint)], address: "::1"));
        await using (runtime)
        {
            using var client = new Socket(AddressFamily.InterNetworkV6, SocketType.Stream, ProtocolType.Tcp);
            await client.ConnectAsync(runtime.Address());
            Assert.Equal("six", await TestClient.ReadLineAsync(client));
            Assert.Equal("v6 echo", await TestClient.EchoAsync(client, "v6 echo"));
            client.Shutdown(SocketShutdown.Send);
            Assert.Null(await TestClient.ReadLineAsync(client));
            await Eventually.TrueAsync(() => log.Finished.Count == 1, TestClient.Deadline);
            Assert.Equal("[::1]:" + server.Endpoint.Port, Assert.Single(log.Finished).RealServer);
        }
    }
}
