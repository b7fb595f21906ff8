using System.Net;
using System.Net.Sockets;

namespace VipProxy.Forwarding.Loop;

/// <summary>The listening sockets of one virtual server: one per loop, in one SO_REUSEPORT group.</summary>
internal static class ListenerSockets
{
    /// <summary>
    /// Binds <paramref name="count"/> listening sockets on <paramref name="endpoint"/>, each with SO_REUSEADDR (a
    /// restarted daemon binds while old connections sit in TIME_WAIT), SO_REUSEPORT (the kernel spreads new
    /// connections over them), IP_FREEBIND (a backup node listens on a VIP it does not hold yet; the kernel delivers
    /// connections the moment VRRP adds the address) and TCP_NODELAY (inherited by accepted sockets).
    /// </summary>
    /// <remarks>SO_REUSEPORT would also let a second process of the same user join the group and take a share of
    /// the clients (an old daemon still running, a second runtime on the same address). A probe bind without
    /// SO_REUSEPORT first keeps the old behaviour: if anything listens there already, the bind fails with
    /// EADDRINUSE.</remarks>
    /// <exception cref="SocketException">The kernel refused a step.</exception>
    public static int[] BindGroup(ILoopKernel kernel, IPEndPoint endpoint, int count, int backlog, out IPEndPoint bound)
    {
        SocketAddressBuffer address = SocketAddressBuffer.From(endpoint);
        if (endpoint.Port != 0)
        {
            Probe(kernel, address, endpoint.AddressFamily == AddressFamily.InterNetworkV6);
        }

        var fds = new List<int>(count);
        try
        {
            for (int i = 0; i < count; i++)
            {
                int fd = Create(kernel, address, endpoint.AddressFamily == AddressFamily.InterNetworkV6, backlog);
                fds.Add(fd);
                if (i == 0 && endpoint.Port == 0)
                {
                    // Port 0: the first socket picks the port; the rest of the group binds to that one.
                    Check(kernel.LocalAddress(fd, out address), "getsockname");
                }
            }
        }
        catch
        {
            foreach (int fd in fds)
            {
                _ = kernel.Close(fd);
            }

            throw;
        }

        bound = new IPEndPoint(endpoint.Address, address.Port);
        return [.. fds];
    }

    private static int Create(ILoopKernel kernel, in SocketAddressBuffer address, bool v6, int backlog)
    {
        int fd = Check(kernel.TcpSocket(address.Family), "socket");
        try
        {
            Check(kernel.SetOption(fd, LinuxConstants.SolSocket, LinuxConstants.SoReuseAddr, 1), "setsockopt SO_REUSEADDR");
            Check(kernel.SetOption(fd, LinuxConstants.SolSocket, LinuxConstants.SoReusePort, 1), "setsockopt SO_REUSEPORT");
            Check(kernel.SetOption(fd, LinuxConstants.SolIp, LinuxConstants.IpFreebind, 1), "setsockopt IP_FREEBIND");
            Check(kernel.SetOption(fd, LinuxConstants.SolTcp, LinuxConstants.TcpNoDelay, 1), "setsockopt TCP_NODELAY");
            if (v6)
            {
                // As .NET's sockets do: an IPv6 virtual server is IPv6 only (an IPv4 one on the same port is its own).
                Check(kernel.SetOption(fd, LinuxConstants.SolIpv6, LinuxConstants.Ipv6V6Only, 1), "setsockopt IPV6_V6ONLY");
            }

            Check(kernel.Bind(fd, address), "bind");
            Check(kernel.Listen(fd, backlog), "listen");
            return fd;
        }
        catch
        {
            _ = kernel.Close(fd);
            throw;
        }
    }

    private static void Probe(ILoopKernel kernel, in SocketAddressBuffer address, bool v6)
    {
        int fd = Check(kernel.TcpSocket(address.Family), "socket");
        try
        {
            Check(kernel.SetOption(fd, LinuxConstants.SolSocket, LinuxConstants.SoReuseAddr, 1), "setsockopt SO_REUSEADDR");
            Check(kernel.SetOption(fd, LinuxConstants.SolIp, LinuxConstants.IpFreebind, 1), "setsockopt IP_FREEBIND");
            if (v6)
            {
                Check(kernel.SetOption(fd, LinuxConstants.SolIpv6, LinuxConstants.Ipv6V6Only, 1), "setsockopt IPV6_V6ONLY");
            }

            Check(kernel.Bind(fd, address), "bind");
        }
        finally
        {
            _ = kernel.Close(fd);
        }
    }

    private static int Check(int result, string step) =>
        result >= 0 ? result : throw new SocketException((int)Errno.ToSocketError(-result), $"{step} failed: {Errno.ToSocketError(-result)} (errno {-result})");
}
