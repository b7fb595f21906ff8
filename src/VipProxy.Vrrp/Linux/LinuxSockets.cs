using System.Net.Sockets;
using Tmds.Linux;

namespace VipProxy.Vrrp.Linux;

/// <summary>
/// Socket creation for the families and protocols .NET's <see cref="Socket"/> constructor refuses (raw IPv4 protocol
/// 112, AF_NETLINK): the fd comes from libc <c>socket()</c> through Tmds.LibC and is wrapped in a
/// <see cref="SafeSocketHandle"/>, after which the ordinary <see cref="Socket"/> API (async receive, options) works.
/// </summary>
internal static unsafe class LinuxSockets
{
    public const int AfNetlink = 16;
    public const int SolIp = 0;
    public const int SolSocket = 1;
    public const int IpHdrIncl = 3;
    public const int IpMulticastIf = 32;
    public const int IpMulticastTtl = 33;
    public const int IpMulticastLoop = 34;
    public const int SoBindToDevice = 25;
    public const int SoRcvBuf = 8;

    /// <summary>socket(2) with SOCK_CLOEXEC, wrapped; throws <see cref="SocketException"/> with errno on failure.</summary>
    public static Socket Create(int domain, int type, int protocol)
    {
        int fd = LibC.socket(domain, type | LibC.SOCK_CLOEXEC, protocol);
        if (fd < 0)
        {
            throw new SocketException(LibC.errno);
        }

        return new Socket(new SafeSocketHandle(fd, ownsHandle: true));
    }

    /// <summary>setsockopt with an int, through .NET (works on any wrapped fd).</summary>
    public static void SetInt(Socket socket, int level, int name, int value)
    {
        Span<byte> bytes = stackalloc byte[4];
        BitConverter.TryWriteBytes(bytes, value);
        socket.SetRawSocketOption(level, name, bytes);
    }

    /// <summary>SO_BINDTODEVICE: only this interface's packets reach the socket, and sends leave through it.</summary>
    public static void BindToDevice(Socket socket, string interfaceName)
    {
        var name = System.Text.Encoding.ASCII.GetBytes(interfaceName + "\0");
        socket.SetRawSocketOption(SolSocket, SoBindToDevice, name);
    }

    /// <summary>Binds a netlink socket (sockaddr_nl: family, pad, port id 0 = kernel assigns, groups).</summary>
    public static void BindNetlink(Socket socket, uint groups)
    {
        byte* address = stackalloc byte[12];
        new Span<byte>(address, 12).Clear();
        *(ushort*)address = AfNetlink;
        *(uint*)(address + 8) = groups;
        int fd = (int)socket.SafeHandle.DangerousGetHandle();
        if (LibC.bind(fd, (sockaddr*)address, 12) != 0)
        {
            throw new SocketException(LibC.errno);
        }
    }
}
