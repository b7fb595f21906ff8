using System.Net.Sockets;

namespace VipProxy.Forwarding.Listening;

/// <summary>
/// The Linux socket options the forwarder needs and .NET has no <see cref="SocketOptionName"/> for, on
/// <see cref="Socket"/> objects (&lt;linux/in.h&gt;, &lt;linux/in6.h&gt;): the host's start-up check that the kernel grants
/// IP_TRANSPARENT uses them. The event loops set the same options on raw descriptors (Loop/ListenerSockets.cs,
/// LoopConnection). Each throws <see cref="SocketException"/> when the kernel refuses.
/// </summary>
public static class ForwarderSocketOptions
{
    private const int SolIp = 0;
    private const int SolIpv6 = 41;
    private const int IpFreebind = 15;
    private const int IpTransparent = 19;
    private const int IpBindAddressNoPort = 24;
    private const int Ipv6Transparent = 75;

    /// <summary>Bind to an address this host does not hold (yet). At SOL_IP it also covers IPv6 sockets (the kernel
    /// checks the same inet flag).</summary>
    public static void EnableFreebind(Socket socket) => SetOn(socket, SolIp, IpFreebind);

    /// <summary>True when IP_FREEBIND is set.</summary>
    public static bool IsFreebind(Socket socket)
    {
        ArgumentNullException.ThrowIfNull(socket);
        Span<byte> value = stackalloc byte[4];
        int length = socket.GetRawSocketOption(SolIp, IpFreebind, value);
        return length > 0 && value[0] != 0;
    }

    /// <summary>Bind to and send from a foreign address (CAP_NET_ADMIN): IP_TRANSPARENT or IPV6_TRANSPARENT.</summary>
    public static void EnableTransparent(Socket socket)
    {
        ArgumentNullException.ThrowIfNull(socket);
        if (socket.AddressFamily == AddressFamily.InterNetwork)
        {
            SetOn(socket, SolIp, IpTransparent);
        }
        else
        {
            SetOn(socket, SolIpv6, Ipv6Transparent);
        }
    }

    /// <summary>Leave the source port to connect(), unique per 4-tuple, instead of reserving one at bind.</summary>
    public static void EnableBindAddressNoPort(Socket socket) => SetOn(socket, SolIp, IpBindAddressNoPort);

    private static void SetOn(Socket socket, int level, int name)
    {
        ArgumentNullException.ThrowIfNull(socket);
        ReadOnlySpan<byte> one = [1, 0, 0, 0];
        socket.SetRawSocketOption(level, name, one);
    }
}
