using System.Net;
using System.Net.Sockets;
using VipProxy.Forwarding.Listening;

namespace VipProxy.Host.Platform;

/// <summary>
/// Asks the kernel, before any client arrives, whether this process may connect from addresses it does not own
/// (IP_TRANSPARENT, what <c>transparent</c> virtual servers do for every client): the same setsockopt and bind the
/// forwarder makes, on a socket that is closed without connecting, so no packet is sent.
/// </summary>
public static class TransparentSockets
{
    /// <summary>An address this host does not hold (benchmarking range, RFC 2544); only bound, never used.</summary>
    private static readonly IPAddress ForeignAddress = IPAddress.Parse("198.18.255.254");

    /// <summary>Null when the kernel accepts a transparent bind; otherwise what it refused, as a sentence.</summary>
    public static string? Probe()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            ForwarderSocketOptions.EnableTransparent(socket);
        }
        catch (SocketException error)
        {
            return $"the kernel refuses IP_TRANSPARENT ({error.SocketErrorCode}: {error.Message}); it needs CAP_NET_ADMIN";
        }

        try
        {
            socket.Bind(new IPEndPoint(ForeignAddress, 0));
        }
        catch (SocketException error)
        {
            return $"the kernel refuses a transparent bind to a foreign address ({error.SocketErrorCode}: {error.Message})";
        }

        return null;
    }
}
