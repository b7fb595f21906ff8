using System.Net;
using System.Net.Sockets;
using VipProxy.Config.Model;
using VipProxy.Forwarding.Loop;
using VipProxy.Forwarding.Tests.Support;

namespace VipProxy.Forwarding.Tests.Runtime;

/// <summary><c>tcp_keepalive IDLE INTERVAL COUNT</c>: read back with getsockopt from the forwarder's own descriptors
/// of a live proxied connection, on the loop that owns them.</summary>
public class TcpKeepaliveTests
{
    private sealed record Leg(IPEndPoint? Local, int KeepAlive, int Idle, int Interval, int Count);

    private static Leg Read(ILoopKernel kernel, int fd)
    {
        Assert.True(fd >= 0, "the leg has no descriptor");
        Assert.Equal(0, kernel.GetOption(fd, LinuxConstants.SolSocket, LinuxConstants.SoKeepAlive, out int keepAlive));
        Assert.Equal(0, kernel.GetOption(fd, LinuxConstants.SolTcp, LinuxConstants.TcpKeepIdle, out int idle));
        Assert.Equal(0, kernel.GetOption(fd, LinuxConstants.SolTcp, LinuxConstants.TcpKeepInterval, out int interval));
        Assert.Equal(0, kernel.GetOption(fd, LinuxConstants.SolTcp, LinuxConstants.TcpKeepCount, out int count));
        Assert.Equal(0, kernel.LocalAddress(fd, out SocketAddressBuffer local));
        return new Leg(local.ToEndPoint(), keepAlive, idle, interval, count);
    }

    private static async Task<(Leg Client, Leg Server)> ProxiedLegsAsync(TcpKeepalive? keepalive)
    {
        await using var server = LoopbackServer.IdEcho("A");
        VirtualServer config = TestConfigs.Virtual(SchedulingAlgorithm.RoundRobin, [TestConfigs.Real(server.Endpoint)]) with
        {
            TcpKeepalive = keepalive,
        };
        var (runtime, _, _) = await TestRuntime.StartAsync(config);
        await using (runtime)
        {
            using Socket client = await TestClient.ConnectAsync(runtime.Address());
            Assert.Equal("A", await TestClient.ReadLineAsync(client)); // relaying: both legs are open

            IReadOnlyList<(Leg Client, Leg Server)> legs = await runtime.InspectConnectionsAsync(
                (connection, kernel) => (Read(kernel, connection.ClientDescriptor), Read(kernel, connection.ServerDescriptor)));
            (Leg clientLeg, Leg serverLeg) = Assert.Single(legs);

            // The descriptors are the two legs of this client's connection: the one the client reached, and the one
            // whose address the real server saw as its peer.
            Assert.Equal(runtime.Address(), clientLeg.Local);
            Assert.Equal(Assert.Single(server.Accepted).RemoteEndPoint, serverLeg.Local);
            return (clientLeg, serverLeg);
        }
    }

    [Fact]
    public async Task Both_legs_carry_the_configured_keepalive()
    {
        (Leg clientLeg, Leg serverLeg) = await ProxiedLegsAsync(new TcpKeepalive(TimeSpan.FromSeconds(75), TimeSpan.FromSeconds(9), 4));
        Assert.Equal((1, 75, 9, 4), (clientLeg.KeepAlive, clientLeg.Idle, clientLeg.Interval, clientLeg.Count));
        Assert.Equal((1, 75, 9, 4), (serverLeg.KeepAlive, serverLeg.Idle, serverLeg.Interval, serverLeg.Count));
    }

    [Fact]
    public async Task Without_the_keyword_neither_leg_has_keepalive()
    {
        (Leg clientLeg, Leg serverLeg) = await ProxiedLegsAsync(null);
        Assert.Equal(0, clientLeg.KeepAlive);
        Assert.Equal(0, serverLeg.KeepAlive);
    }
}
