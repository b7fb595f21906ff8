using System.Net;
using System.Net.Sockets;

namespace VipProxy.Forwarding.Listening;

/// <summary>Creates the listening socket of a virtual server.</summary>
public static class ListenerSocket
{
    /// <summary>
    /// Binds and listens on <paramref name="endpoint"/> with SO_REUSEADDR and IP_FREEBIND, so a backup node
    /// can listen on a VIP it does not hold yet: the kernel starts delivering connections the moment VRRP adds the
    /// address, with no rebind. SO_REUSEADDR lets a restarted daemon bind while old connections sit in TIME_WAIT.
    /// </summary>
    public static Socket Bind(IPEndPoint endpoint, int backlog)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        var socket = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            ForwarderSocketOptions.EnableFreebind(socket);

            socket.Bind(endpoint);
            socket.Listen(backlog);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>True when IP_FREEBIND is set on <paramref name="socket"/> (for tests and diagnostics).</summary>
    public static bool IsFreebind(Socket socket)
    {
        ArgumentNullException.ThrowIfNull(socket);
        return ForwarderSocketOptions.IsFreebind(socket);
    }
}
