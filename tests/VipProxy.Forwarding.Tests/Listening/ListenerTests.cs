using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging.Abstractions;
using VipProxy.Forwarding.Listening;

namespace VipProxy.Forwarding.Tests.Listening;

public class ListenerTests
{
    [Fact]
    public void The_listening_socket_has_freebind_and_reuseaddr()
    {
        using Socket socket = ListenerSocket.Bind(new IPEndPoint(IPAddress.Parse("127.0.0.3"), 0), 16);
        Assert.True(ListenerSocket.IsFreebind(socket));
        Assert.Equal(1, (int)socket.GetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress)!);
    }

    [Fact]
    public async Task Stopping_closes_the_port_but_not_accepted_sockets()
    {
        var accepted = new List<Socket>();
        var listener = new VirtualServerListener(new IPEndPoint(IPAddress.Loopback, 0), 16, accepted.Add, NullLogger.Instance);
        listener.Start();
        IPEndPoint address = listener.LocalEndpoint!;
        using var client = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync(address);
        await Eventually.TrueAsync(() => accepted.Count == 1, Support.TestClient.Deadline);

        await listener.DisposeAsync();
        Assert.False(listener.IsAccepting);
        using var late = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await Assert.ThrowsAsync<SocketException>(async () => await late.ConnectAsync(address));

        // The accepted connection still works both ways.
        await client.SendAsync("x"u8.ToArray());
        var buffer = new byte[1];
        Assert.Equal(1, await accepted[0].ReceiveAsync(buffer));
        await accepted[0].SendAsync("y"u8.ToArray());
        Assert.Equal(1, await client.ReceiveAsync(buffer));
        accepted[0].Dispose();
    }
}
