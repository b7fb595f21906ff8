namespace VipProxy.Forwarding.Loop;

/// <summary>
/// The kernel surface of the event loops, in one adapter: epoll, eventfd, non-blocking TCP sockets, splice(2) and
/// pipes, on raw descriptors. Every call returns the result of the system call, or the negated errno on failure
/// (as the raw syscall ABI does), so callers never read a thread-local errno and a wrapper can inject failures.
/// </summary>
/// <remarks>
/// The loops keep these descriptors away from <c>System.Net.Sockets</c>: an fd that a <c>Socket</c> object has used
/// asynchronously is registered in .NET's own edge-triggered epoll and its operations would race the loop's
/// (REFERENCE.md §1). Every socket is created or accepted non-blocking and close-on-exec.
/// </remarks>
internal unsafe interface ILoopKernel
{
    /// <summary>epoll_create1(EPOLL_CLOEXEC).</summary>
    int EpollCreate();

    /// <summary>epoll_ctl(EPOLL_CTL_ADD) with <paramref name="events"/> and the 64-bit <paramref name="token"/>.</summary>
    int EpollAdd(int epollFd, int fd, uint events, ulong token);

    /// <summary>epoll_ctl(EPOLL_CTL_DEL).</summary>
    int EpollDelete(int epollFd, int fd);

    /// <summary>epoll_wait into <paramref name="events"/>; -EINTR is returned as 0 events.</summary>
    int EpollWait(int epollFd, EpollEvents events, int timeoutMs);

    /// <summary>eventfd(0, EFD_NONBLOCK|EFD_CLOEXEC).</summary>
    int EventFdCreate();

    /// <summary>Adds 1 to an eventfd (wakes the loop that polls it).</summary>
    int EventFdSignal(int fd);

    /// <summary>Reads (and so resets) an eventfd's counter.</summary>
    int EventFdDrain(int fd);

    /// <summary>socket(family, SOCK_STREAM|SOCK_NONBLOCK|SOCK_CLOEXEC, IPPROTO_TCP).</summary>
    int TcpSocket(int family);

    /// <summary>setsockopt with a 4-byte integer value.</summary>
    int SetOption(int fd, int level, int name, int value);

    /// <summary>getsockopt of a 4-byte integer value into <paramref name="value"/>.</summary>
    int GetOption(int fd, int level, int name, out int value);

    /// <summary>SO_LINGER {on, 0 s}: the next close sends RST and discards unsent data.</summary>
    int SetLingerZero(int fd);

    /// <summary>bind(2).</summary>
    int Bind(int fd, in SocketAddressBuffer address);

    /// <summary>listen(2).</summary>
    int Listen(int fd, int backlog);

    /// <summary>accept4(SOCK_NONBLOCK|SOCK_CLOEXEC), writing the peer's address.</summary>
    int Accept(int listenFd, out SocketAddressBuffer peer);

    /// <summary>connect(2) on a non-blocking socket: 0, or -EINPROGRESS while the handshake runs.</summary>
    int Connect(int fd, in SocketAddressBuffer address);

    /// <summary>getsockname(2).</summary>
    int LocalAddress(int fd, out SocketAddressBuffer address);

    /// <summary>recv(2) with MSG_DONTWAIT.</summary>
    long Receive(int fd, byte* buffer, int length);

    /// <summary>send(2) with MSG_DONTWAIT|MSG_NOSIGNAL.</summary>
    long Send(int fd, byte* buffer, int length);

    /// <summary>splice(2) with SPLICE_F_MOVE|SPLICE_F_NONBLOCK (never SPLICE_F_MORE: towards a socket it corks small
    /// writes for ~200 ms).</summary>
    long Splice(int fromFd, int toFd, int length);

    /// <summary>shutdown(2).</summary>
    int Shutdown(int fd, int how);

    /// <summary>close(2).</summary>
    int Close(int fd);

    /// <summary>pipe2(O_NONBLOCK|O_CLOEXEC), then F_SETPIPE_SZ to <paramref name="size"/> (keeping the kernel's size when
    /// that is refused). Returns the capacity.</summary>
    int Pipe(int size, out int readFd, out int writeFd);
}

/// <summary>Constants of the Linux ABI used by the loops (x86-64 and arm64 share them).</summary>
internal static class LinuxConstants
{
    public const uint EpollIn = 0x001;
    public const uint EpollOut = 0x004;
    public const uint EpollErr = 0x008;
    public const uint EpollHup = 0x010;
    public const uint EpollRdHup = 0x2000;
    public const uint EpollEt = 1u << 31;

    public const int EAGAIN = 11;
    public const int EINTR = 4;
    public const int EBADF = 9;
    public const int EINPROGRESS = 115;
    public const int EMFILE = 24;
    public const int ENFILE = 23;
    public const int ENOBUFS = 105;
    public const int ENOMEM = 12;
    public const int ECONNRESET = 104;
    public const int EPIPE = 32;
    public const int ECONNABORTED = 103;
    public const int ETIMEDOUT = 110;
    public const int ENOTCONN = 107;
    public const int EHOSTUNREACH = 113;
    public const int ENETUNREACH = 101;
    public const int ENETDOWN = 100;
    public const int ECONNREFUSED = 111;
    public const int EADDRINUSE = 98;
    public const int EADDRNOTAVAIL = 99;
    public const int EACCES = 13;
    public const int EPERM = 1;
    public const int EPROTO = 71;
    public const int EAFNOSUPPORT = 97;

    public const int AfInet = 2;
    public const int AfInet6 = 10;

    public const int SolSocket = 1;
    public const int SoReuseAddr = 2;
    public const int SoError = 4;
    public const int SoKeepAlive = 9;
    public const int SoLinger = 13;
    public const int SoReusePort = 15;
    public const int SolIp = 0;
    public const int IpFreebind = 15;
    public const int IpTransparent = 19;
    public const int IpBindAddressNoPort = 24;
    public const int SolIpv6 = 41;
    public const int Ipv6V6Only = 26;
    public const int Ipv6Transparent = 75;
    public const int SolTcp = 6;
    public const int TcpNoDelay = 1;
    public const int TcpKeepIdle = 4;
    public const int TcpKeepInterval = 5;
    public const int TcpKeepCount = 6;

    public const int ShutWrite = 1;
}
