using System.Runtime.InteropServices;

namespace VipProxy.Forwarding.Loop;

/// <summary>
/// The io_uring experiment (issue 13): the loop's readiness through io_uring instead of epoll, behind the same
/// <see cref="ILoopKernel"/>. Each watched descriptor gets a multishot IORING_OP_POLL_ADD (a completion per wake-up,
/// as edge-triggered epoll reports one event per wake-up); registrations and removals are queued in the submission
/// ring and go to the kernel with the next wait (one io_uring_enter that submits and waits), so a connection costs
/// no epoll_ctl calls. Socket calls (recv, send, splice, accept, connect) stay the same system calls.
/// </summary>
/// <remarks>
/// <para>Raw syscalls (io_uring_setup 425, io_uring_enter 426) and the ring layout of &lt;linux/io_uring.h&gt;:
/// the SQ and CQ rings share one mapping (IORING_FEAT_SINGLE_MMAP), the SQE array its own. Ordering follows
/// io_uring(7): the SQ tail is published with a release store after the SQE is written, the CQ tail read with an
/// acquire load and the CQ head released after the CQEs are read (<see cref="Volatile"/>).</para>
/// <para>One ring per loop (one <see cref="EpollCreate"/> per loop); the adapter keeps which token watches which
/// descriptor so that <see cref="Close"/> can remove the poll first: a pending poll holds a reference on the file,
/// and without the removal a closed socket would never send its FIN or RST.</para>
/// <para>Kept only if it wins (bench/results/io-uring-ab.md); not the default.</para>
/// </remarks>
internal sealed unsafe partial class IoUringLoopKernel : ILoopKernel
{
    private const int SysIoUringSetup = 425;
    private const int SysIoUringEnter = 426;
    private const byte OpPollAdd = 6;
    private const byte OpPollRemove = 7;
    private const uint PollAddMulti = 1;
    private const uint CqeFlagMore = 2;
    private const uint EnterGetEvents = 1;
    private const uint EnterExtArg = 8;
    private const uint SetupCoopTaskrun = 1 << 8;
    private const uint FeatSingleMmap = 1;
    private const long OffSqRing = 0;
    private const long OffSqes = 0x10000000;
    private const ulong RemoveToken = ulong.MaxValue - 1;
    private const int Entries = 4096;

    private readonly LinuxLoopKernel _sockets = LinuxLoopKernel.Instance;
    private readonly Dictionary<int, Ring> _rings = [];
    private readonly Lock _ringsGate = new();

    public static IoUringLoopKernel Instance { get; } = new();

    /// <summary>True when this kernel can set up a ring (io_uring may be disabled by sysctl or seccomp).</summary>
    public static bool IsSupported()
    {
        int fd = Setup(out _);
        if (fd < 0)
        {
            return false;
        }

        _ = close(fd);
        return true;
    }

    public int EpollCreate()
    {
        var ring = new Ring();
        int result = ring.Open();
        if (result < 0)
        {
            return result;
        }

        lock (_ringsGate)
        {
            _rings[ring.Fd] = ring;
        }

        return ring.Fd;
    }

    public int EpollAdd(int epollFd, int fd, uint events, ulong token)
    {
        Ring ring = RingOf(epollFd);
        ring.Watched[fd] = token;
        ring.Queue(OpPollAdd, fd, events & ~LinuxConstants.EpollEt, PollAddMulti, token, 0);
        return 0;
    }

    public int EpollDelete(int epollFd, int fd)
    {
        Ring ring = RingOf(epollFd);
        if (ring.Watched.Remove(fd, out ulong token))
        {
            ring.Queue(OpPollRemove, -1, 0, 0, RemoveToken, token);
        }

        return 0;
    }

    public int EpollWait(int epollFd, EpollEvents events, int timeoutMs) => RingOf(epollFd).Wait(events, timeoutMs);

    public int Close(int fd)
    {
        // A ring closes through its own path; a watched descriptor first loses its poll (see the remarks). The
        // descriptors of one loop are only ever closed on that loop, so the rings are searched without contention.
        Ring? own = null;
        lock (_ringsGate)
        {
            if (_rings.Remove(fd, out Ring? ring))
            {
                own = ring;
            }
        }

        if (own is not null)
        {
            own.Dispose();
            return 0;
        }

        Ring? watching = CurrentRing;
        if (watching is not null && watching.Watched.Remove(fd, out ulong token))
        {
            watching.Queue(OpPollRemove, -1, 0, 0, RemoveToken, token);
        }

        return _sockets.Close(fd);
    }

    public int EventFdCreate() => _sockets.EventFdCreate();
    public int EventFdSignal(int fd) => _sockets.EventFdSignal(fd);
    public int EventFdDrain(int fd) => _sockets.EventFdDrain(fd);
    public int TcpSocket(int family) => _sockets.TcpSocket(family);
    public int SetOption(int fd, int level, int name, int value) => _sockets.SetOption(fd, level, name, value);
    public int GetOption(int fd, int level, int name, out int value) => _sockets.GetOption(fd, level, name, out value);
    public int SetLingerZero(int fd) => _sockets.SetLingerZero(fd);
    public int Bind(int fd, in SocketAddressBuffer address) => _sockets.Bind(fd, address);
    public int Listen(int fd, int backlog) => _sockets.Listen(fd, backlog);
    public int Accept(int listenFd, out SocketAddressBuffer peer) => _sockets.Accept(listenFd, out peer);
    public int Connect(int fd, in SocketAddressBuffer address) => _sockets.Connect(fd, address);
    public int LocalAddress(int fd, out SocketAddressBuffer address) => _sockets.LocalAddress(fd, out address);
    public long Receive(int fd, byte* buffer, int length) => _sockets.Receive(fd, buffer, length);
    public long Send(int fd, byte* buffer, int length) => _sockets.Send(fd, buffer, length);
    public long Splice(int fromFd, int toFd, int length) => _sockets.Splice(fromFd, toFd, length);
    public int Shutdown(int fd, int how) => _sockets.Shutdown(fd, how);
    public int Pipe(int size, out int readFd, out int writeFd) => _sockets.Pipe(size, out readFd, out writeFd);

    /// <summary>The ring of the loop running on this thread (each loop thread waits on exactly one ring).</summary>
    [ThreadStatic]
    private static Ring? t_currentRing;

    private static Ring? CurrentRing => t_currentRing;

    private Ring RingOf(int fd)
    {
        Ring? ring = t_currentRing;
        if (ring is not null && ring.Fd == fd)
        {
            return ring;
        }

        lock (_ringsGate)
        {
            ring = _rings[fd];
        }

        // Registrations made before the loop thread runs (the constructor's eventfd) and waits both land here; the
        // first wait binds the ring to its loop thread.
        return ring;
    }

    private static int Setup(out IoUringParams parameters)
    {
        parameters = default;
        parameters.Flags = SetupCoopTaskrun;
        fixed (IoUringParams* pointer = &parameters)
        {
            long fd = syscall(SysIoUringSetup, Entries, (nint)pointer, 0, 0, 0, 0);
            if (fd < 0)
            {
                // COOP_TASKRUN needs 5.19; retry without it on an older kernel.
                *pointer = default;
                fd = syscall(SysIoUringSetup, Entries, (nint)pointer, 0, 0, 0, 0);
            }

            return fd < 0 ? -Marshal.GetLastSystemError() : (int)fd;
        }
    }

    /// <summary>One submission/completion ring pair, used by one loop thread.</summary>
    private sealed class Ring : IDisposable
    {
        private byte* _ring;
        private nuint _ringSize;
        private byte* _sqes;
        private nuint _sqesSize;
        private uint* _sqHead;
        private uint* _sqTail;
        private uint _sqMask;
        private uint* _sqArray;
        private uint _sqEntries;
        private uint* _cqHead;
        private uint* _cqTail;
        private uint _cqMask;
        private byte* _cqes;
        private uint _pending;

        public int Fd { get; private set; } = -1;

        /// <summary>Watched descriptor → the token of its poll.</summary>
        public Dictionary<int, ulong> Watched { get; } = [];

        public int Open()
        {
            int fd = Setup(out IoUringParams p);
            if (fd < 0)
            {
                return fd;
            }

            if ((p.Features & FeatSingleMmap) == 0)
            {
                _ = close(fd);
                return -LinuxConstants.EAFNOSUPPORT;
            }

            nuint sqSize = p.SqOff.Array + (p.SqEntries * 4);
            nuint cqSize = p.CqOff.Cqes + (p.CqEntries * 16);
            _ringSize = Math.Max(sqSize, cqSize);
            _ring = (byte*)mmap(null, _ringSize, 3 /* PROT_READ|WRITE */, 0x8001 /* MAP_SHARED|MAP_POPULATE */, fd, OffSqRing);
            _sqesSize = p.SqEntries * 64u;
            _sqes = (byte*)mmap(null, _sqesSize, 3, 0x8001, fd, OffSqes);
            if (_ring == (byte*)-1 || _sqes == (byte*)-1)
            {
                _ = close(fd);
                return -LinuxConstants.ENOMEM;
            }

            _sqHead = (uint*)(_ring + p.SqOff.Head);
            _sqTail = (uint*)(_ring + p.SqOff.Tail);
            _sqMask = *(uint*)(_ring + p.SqOff.RingMask);
            _sqArray = (uint*)(_ring + p.SqOff.Array);
            _sqEntries = p.SqEntries;
            _cqHead = (uint*)(_ring + p.CqOff.Head);
            _cqTail = (uint*)(_ring + p.CqOff.Tail);
            _cqMask = *(uint*)(_ring + p.CqOff.RingMask);
            _cqes = _ring + p.CqOff.Cqes;
            Fd = fd;
            return fd;
        }

        /// <summary>Writes one SQE; it reaches the kernel with the next <see cref="Wait"/> (or now, when the ring is
        /// full).</summary>
        public void Queue(byte opcode, int fd, uint pollEvents, uint length, ulong userData, ulong address)
        {
            uint tail = *_sqTail;
            if (tail - Volatile.Read(ref *_sqHead) >= _sqEntries)
            {
                _ = Enter(_pending, 0, 0, null);
                _pending = 0;
                tail = *_sqTail;
            }

            uint index = tail & _sqMask;
            byte* sqe = _sqes + (index * 64);
            new Span<byte>(sqe, 64).Clear();
            sqe[0] = opcode;
            *(int*)(sqe + 4) = fd;
            *(ulong*)(sqe + 16) = address;
            *(uint*)(sqe + 24) = length;
            *(uint*)(sqe + 28) = pollEvents;
            *(ulong*)(sqe + 32) = userData;
            _sqArray[index] = index;
            Volatile.Write(ref *_sqTail, tail + 1);
            _pending++;
        }

        /// <summary>Submits what is queued and waits for at least one completion (or the timeout), then copies the
        /// poll completions into <paramref name="events"/> as epoll would have reported them.</summary>
        public int Wait(EpollEvents events, int timeoutMs)
        {
            t_currentRing = this;
            if (Volatile.Read(ref *_cqTail) == *_cqHead)
            {
                KernelTimespec timeout = new() { Seconds = timeoutMs / 1000, Nanoseconds = timeoutMs % 1000 * 1_000_000L };
                var arguments = new GeteventsArgument { Timespec = timeoutMs < 0 ? 0 : (ulong)(nint)(&timeout) };
                long result = Enter(_pending, timeoutMs == 0 ? 0u : 1u, EnterGetEvents | EnterExtArg, &arguments);
                _pending = 0;
                if (result < 0 && result != -LinuxConstants.EINTR && result != -62 /* ETIME */ && result != -LinuxConstants.EAGAIN)
                {
                    return (int)result;
                }
            }
            else if (_pending > 0)
            {
                _ = Enter(_pending, 0, 0, null);
                _pending = 0;
            }

            int count = 0;
            uint head = *_cqHead;
            uint tail = Volatile.Read(ref *_cqTail);
            while (head != tail && count < events.Capacity)
            {
                byte* cqe = _cqes + ((head & _cqMask) * 16);
                ulong userData = *(ulong*)cqe;
                int res = *(int*)(cqe + 8);
                uint flags = *(uint*)(cqe + 12);
                head++;
                if (userData == RemoveToken || res < 0)
                {
                    continue; // a removal's own completion, or the end of a removed poll
                }

                events.Set(count++, (uint)res, userData);
                if ((flags & CqeFlagMore) == 0)
                {
                    // The kernel ended the multishot poll (it does under memory pressure): arm it again if the
                    // descriptor is still watched with this token.
                    foreach ((int fd, ulong token) in Watched)
                    {
                        if (token == userData)
                        {
                            Queue(OpPollAdd, fd, LinuxConstants.EpollIn | LinuxConstants.EpollOut | LinuxConstants.EpollRdHup, PollAddMulti, token, 0);
                            break;
                        }
                    }
                }
            }

            Volatile.Write(ref *_cqHead, head);
            return count;
        }

        public void Dispose()
        {
            if (Fd < 0)
            {
                return;
            }

            _ = munmap(_sqes, _sqesSize);
            _ = munmap(_ring, _ringSize);
            _ = close(Fd);
            Fd = -1;
        }

        private long Enter(uint toSubmit, uint minComplete, uint flags, GeteventsArgument* argument)
        {
            long result = syscall(SysIoUringEnter, Fd, (nint)toSubmit, (nint)minComplete, (nint)flags, (nint)argument,
                argument == null ? 0 : sizeof(GeteventsArgument));
            return result < 0 ? -Marshal.GetLastSystemError() : result;
        }
    }

#pragma warning disable CS0649 // Filled by the kernel.
    [StructLayout(LayoutKind.Sequential)]
    private struct SqRingOffsets
    {
        public uint Head, Tail, RingMask, RingEntries, Flags, Dropped, Array, Resv1;
        public ulong UserAddr;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct CqRingOffsets
    {
        public uint Head, Tail, RingMask, RingEntries, Overflow, Cqes, Flags, Resv1;
        public ulong UserAddr;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct IoUringParams
    {
        public uint SqEntries, CqEntries, Flags, SqThreadCpu, SqThreadIdle, Features, WqFd, Resv0, Resv1, Resv2;
        public SqRingOffsets SqOff;
        public CqRingOffsets CqOff;
    }
#pragma warning restore CS0649

    [StructLayout(LayoutKind.Sequential)]
    private struct KernelTimespec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct GeteventsArgument
    {
        public ulong Sigmask;
        public uint SigmaskSize;
        public uint Pad;
        public ulong Timespec;
    }

#pragma warning disable SA1300, IDE1006 // libc's names.
    [LibraryImport("libc", SetLastError = true)]
    private static partial long syscall(long number, nint a1, nint a2, nint a3, nint a4, nint a5, nint a6);

    [LibraryImport("libc", SetLastError = true)]
    private static partial void* mmap(void* address, nuint length, int protection, int flags, int fd, long offset);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int munmap(void* address, nuint length);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int close(int fd);
#pragma warning restore SA1300, IDE1006
}
