using System.Net.Sockets;

namespace VipProxy.Forwarding.Loop;

/// <summary>errno values as the rest of the forwarder speaks of them (<see cref="SocketError"/>).</summary>
internal static class Errno
{
    /// <summary>The <see cref="SocketError"/> a .NET socket call would have reported for <paramref name="errno"/>
    /// (positive).</summary>
    public static SocketError ToSocketError(int errno) => errno switch
    {
        0 => SocketError.Success,
        LinuxConstants.ECONNRESET => SocketError.ConnectionReset,
        LinuxConstants.EPIPE => SocketError.Shutdown,
        LinuxConstants.ECONNABORTED => SocketError.ConnectionAborted,
        LinuxConstants.ECONNREFUSED => SocketError.ConnectionRefused,
        LinuxConstants.ETIMEDOUT => SocketError.TimedOut,
        LinuxConstants.EBADF => SocketError.OperationAborted,
        LinuxConstants.ENOTCONN => SocketError.NotConnected,
        LinuxConstants.EHOSTUNREACH => SocketError.HostUnreachable,
        LinuxConstants.ENETUNREACH => SocketError.NetworkUnreachable,
        LinuxConstants.ENETDOWN => SocketError.NetworkDown,
        LinuxConstants.EADDRINUSE => SocketError.AddressAlreadyInUse,
        LinuxConstants.EADDRNOTAVAIL => SocketError.AddressNotAvailable,
        LinuxConstants.EAFNOSUPPORT => SocketError.AddressFamilyNotSupported,
        LinuxConstants.EACCES or LinuxConstants.EPERM => SocketError.AccessDenied,
        LinuxConstants.EMFILE or LinuxConstants.ENFILE => SocketError.TooManyOpenSockets,
        LinuxConstants.ENOMEM or LinuxConstants.ENOBUFS => SocketError.NoBufferSpaceAvailable,
        LinuxConstants.EAGAIN => SocketError.WouldBlock,
        LinuxConstants.EINPROGRESS => SocketError.InProgress,
        LinuxConstants.EINTR => SocketError.Interrupted,
        _ => SocketError.SocketError,
    };

    /// <summary>True for errors that mean the peer reset the connection: ECONNRESET on receive, and EPIPE or
    /// ECONNABORTED on send once the peer's RST has arrived.</summary>
    public static bool IsReset(int errno) =>
        errno is LinuxConstants.ECONNRESET or LinuxConstants.EPIPE or LinuxConstants.ECONNABORTED;

    /// <summary>accept4 errors about one client that left while queued (retry at once), per accept(2).</summary>
    public static bool IsTransientAccept(int errno) =>
        errno is LinuxConstants.ECONNABORTED or LinuxConstants.EPROTO or LinuxConstants.EINTR or LinuxConstants.ENETDOWN
            or LinuxConstants.EHOSTUNREACH or LinuxConstants.ENETUNREACH or LinuxConstants.EPERM
            or 92 /* ENOPROTOOPT */ or 112 /* EHOSTDOWN */ or 64 /* ENONET */ or 95 /* EOPNOTSUPP */;
}
