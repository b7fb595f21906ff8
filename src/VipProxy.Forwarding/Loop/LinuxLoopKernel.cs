using System.Runtime.InteropServices;

namespace VipProxy.Forwarding.Loop;

/// <summary>
/// <see cref="ILoopKernel"/> on Linux through libc. The imports are source-generated (<c>LibraryImport</c>, no
/// runtime marshalling) and the executable lists <c>libc</c> as a <c>DirectPInvoke</c>, so under Native AOT each call
/// is a direct call into libc, not a lazily bound stub.
/// </summary>
internal sealed unsafe partial class LinuxLoopKernel : ILoopKernel
{
    private const int SockStream = 1;
    private const int SockNonBlock = 0x800;
    private const int SockCloexec = 0x80000;
    private const int IpProtoTcp = 6;
    private const int EpollCloexec = 0x80000;
    private const int EpollCtlAdd = 1;
    private const int EpollCtlDel = 2;
    private const int EfdNonBlock = 0x800;
    private const int EfdCloexec = 0x80000;
    private const int MsgDontWait = 0x40;
    private const int MsgNoSignal = 0x4000;
    private const uint SpliceMove = 1;
    private const uint SpliceNonBlock = 2;
    private const int ONonBlock = 0x800;
    private const int OCloexec = 0x80000;
    private const int FSetPipeSize = 1031;
    private const int FGetPipeSize = 1032;

    /// <summary>The shared instance (the adapter holds no state).</summary>
    public static LinuxLoopKernel Instance { get; } = new();

    public int EpollCreate() => Result(epoll_create1(EpollCloexec));

    public int EpollAdd(int epollFd, int fd, uint events, ulong token)
    {
        byte* ev = stackalloc byte[16];
        EpollEvents.WriteEvent(ev, events, token);
        return Result(epoll_ctl(epollFd, EpollCtlAdd, fd, ev));
    }

    public int EpollDelete(int epollFd, int fd) => Result(epoll_ctl(epollFd, EpollCtlDel, fd, null));

    public int EpollWait(int epollFd, EpollEvents events, int timeoutMs)
    {
        int count = epoll_wait(epollFd, events.Pointer, events.Capacity, timeoutMs);
        if (count >= 0)
        {
            return count;
        }

        int errno = Marshal.GetLastSystemError();
        return errno == LinuxConstants.EINTR ? 0 : -errno;
    }

    public int EventFdCreate() => Result(eventfd(0, EfdNonBlock | EfdCloexec));

    public int EventFdSignal(int fd)
    {
        ulong one = 1;
        return (int)Result(write(fd, &one, 8));
    }

    public int EventFdDrain(int fd)
    {
        ulong value;
        return (int)Result(read(fd, &value, 8));
    }

    public int TcpSocket(int family) => Result(socket(family, SockStream | SockNonBlock | SockCloexec, IpProtoTcp));

    public int SetOption(int fd, int level, int name, int value) => Result(setsockopt(fd, level, name, &value, 4));

    public int GetOption(int fd, int level, int name, out int value)
    {
        int result;
        int length = 4;
        fixed (int* pointer = &value)
        {
            *pointer = 0;
            result = getsockopt(fd, level, name, pointer, &length);
        }

        return Result(result);
    }

    public int SetLingerZero(int fd)
    {
        // struct linger { int l_onoff; int l_linger; }
        long linger = 1;
        return Result(setsockopt(fd, LinuxConstants.SolSocket, LinuxConstants.SoLinger, &linger, 8));
    }

    public int Bind(int fd, in SocketAddressBuffer address)
    {
        fixed (SocketAddressBuffer* pointer = &address)
        {
            return Result(bind(fd, pointer, address.Length));
        }
    }

    public int Listen(int fd, int backlog) => Result(listen(fd, backlog));

    public int Accept(int listenFd, out SocketAddressBuffer peer)
    {
        peer = default;
        int length = SocketAddressBuffer.Capacity;
        int result;
        fixed (SocketAddressBuffer* pointer = &peer)
        {
            result = accept4(listenFd, pointer, &length, SockNonBlock | SockCloexec);
        }

        peer.Length = result >= 0 ? length : 0;
        return Result(result);
    }

    public int Connect(int fd, in SocketAddressBuffer address)
    {
        fixed (SocketAddressBuffer* pointer = &address)
        {
            return Result(connect(fd, pointer, address.Length));
        }
    }

    public int LocalAddress(int fd, out SocketAddressBuffer address)
    {
        address = default;
        int length = SocketAddressBuffer.Capacity;
        int result;
        fixed (SocketAddressBuffer* pointer = &address)
        {
            result = getsockname(fd, pointer, &length);
        }

        address.Length = result >= 0 ? length : 0;
        return Result(result);
    }

    public long Receive(int fd, byte* buffer, int length) => Result(recv(fd, buffer, (nuint)length, MsgDontWait));

    public long Send(int fd, byte* buffer, int length) => Result(send(fd, buffer, (nuint)length, MsgDontWait | MsgNoSignal));

    public long Splice(int fromFd, int toFd, int length) =>
        Result(splice(fromFd, null, toFd, null, (nuint)length, SpliceMove | SpliceNonBlock));

    public int Shutdown(int fd, int how) => Result(shutdown(fd, how));

    public int Close(int fd) => Result(close(fd));

    public int Pipe(int size, out int readFd, out int writeFd)
    {
        int* fds = stackalloc int[2];
        int result = pipe2(fds, ONonBlock | OCloexec);
        if (result < 0)
        {
            readFd = writeFd = -1;
            return -Marshal.GetLastSystemError();
        }

        readFd = fds[0];
        writeFd = fds[1];

        // Above /proc/sys/fs/pipe-max-size (1 MiB) needs CAP_SYS_RESOURCE, and a user past pipe-user-pages-soft is
        // refused: the kernel's default size (64 KiB) still works, with more splices per GiB.
        int capacity = fcntl(writeFd, FSetPipeSize, size);
        if (capacity <= 0)
        {
            capacity = fcntl(writeFd, FGetPipeSize, 0);
        }

        return capacity > 0 ? capacity : 64 * 1024;
    }

    private static int Result(int value) => value >= 0 ? value : -Marshal.GetLastSystemError();

    private static long Result(nint value) => value >= 0 ? value : -Marshal.GetLastSystemError();

#pragma warning disable SA1300, IDE1006 // libc's names.
    [LibraryImport("libc", SetLastError = true)]
    private static partial int epoll_create1(int flags);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int epoll_ctl(int epfd, int op, int fd, void* ev);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int epoll_wait(int epfd, void* events, int maxevents, int timeout);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int eventfd(uint initval, int flags);

    [LibraryImport("libc", SetLastError = true)]
    private static partial nint read(int fd, void* buf, nuint count);

    [LibraryImport("libc", SetLastError = true)]
    private static partial nint write(int fd, void* buf, nuint count);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int socket(int domain, int type, int protocol);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int setsockopt(int fd, int level, int name, void* value, int length);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int getsockopt(int fd, int level, int name, void* value, int* length);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int bind(int fd, void* address, int length);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int listen(int fd, int backlog);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int accept4(int fd, void* address, int* length, int flags);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int connect(int fd, void* address, int length);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int getsockname(int fd, void* address, int* length);

    [LibraryImport("libc", SetLastError = true)]
    private static partial nint recv(int fd, void* buf, nuint length, int flags);

    [LibraryImport("libc", SetLastError = true)]
    private static partial nint send(int fd, void* buf, nuint length, int flags);

    [LibraryImport("libc", SetLastError = true)]
    private static partial nint splice(int fdIn, long* offIn, int fdOut, long* offOut, nuint length, uint flags);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int shutdown(int fd, int how);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int close(int fd);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int pipe2(int* fds, int flags);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int fcntl(int fd, int cmd, int arg);
#pragma warning restore SA1300, IDE1006
}
