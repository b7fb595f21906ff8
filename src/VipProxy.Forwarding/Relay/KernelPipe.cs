using System.Collections.Concurrent;
using Tmds.Linux;

namespace VipProxy.Forwarding.Relay;

/// <summary>A kernel pipe (two file descriptors, both O_NONBLOCK|O_CLOEXEC) used by <see cref="SpliceRelay"/>.</summary>
/// <param name="ReadFd">The read end.</param>
/// <param name="WriteFd">The write end.</param>
/// <param name="Capacity">Bytes the pipe holds (after F_SETPIPE_SZ, or the kernel default if that was refused).</param>
internal readonly record struct KernelPipe(int ReadFd, int WriteFd, int Capacity)
{
    /// <summary>pipe2(O_NONBLOCK|O_CLOEXEC), then F_SETPIPE_SZ to <paramref name="size"/>. False when no pipe could
    /// be made (EMFILE/ENFILE): the caller copies through user space instead.</summary>
    public static unsafe bool TryCreate(int size, out KernelPipe pipe)
    {
        int* fds = stackalloc int[2];
        if (LibC.pipe2(fds, LibC.O_NONBLOCK | LibC.O_CLOEXEC) != 0)
        {
            pipe = default;
            return false;
        }

        // Sizes above /proc/sys/fs/pipe-max-size (1 MiB) need CAP_SYS_RESOURCE, and an unprivileged user past
        // pipe-user-pages-soft is refused: the default size (64 KiB) still works, only with more syscalls.
        int capacity = LibC.fcntl(fds[1], LibC.F_SETPIPE_SZ, size);
        if (capacity <= 0)
        {
            capacity = LibC.fcntl(fds[1], LibC.F_GETPIPE_SZ);
        }

        pipe = new KernelPipe(fds[0], fds[1], capacity > 0 ? capacity : 64 * 1024);
        return true;
    }

    /// <summary>Closes both ends.</summary>
    public void Close()
    {
        _ = LibC.close(ReadFd);
        _ = LibC.close(WriteFd);
    }
}

/// <summary>
/// Empty kernel pipes kept for reuse, process-wide, per requested size: a direction takes one when data arrives and
/// gives it back as soon as its source would block with the pipe empty, so an idle connection holds no pipe (no
/// extra descriptors) and a busy one does not pay pipe2 + fcntl + 2 × close per burst.
/// </summary>
/// <remarks>Lock-free (a <see cref="ConcurrentQueue{T}"/> of structs: no allocation per rent or return). At most
/// <see cref="MaxIdle"/> idle pipes per size; beyond that a returned pipe is closed. Only empty pipes are returned:
/// a pipe that still holds bytes (the connection failed mid-transfer) is closed by its owner.</remarks>
internal sealed class KernelPipePool
{
    /// <summary>Most idle pipes kept per size (2 descriptors each).</summary>
    public const int MaxIdle = 64;

    private static readonly ConcurrentDictionary<int, KernelPipePool> Pools = new();

    private readonly ConcurrentQueue<KernelPipe> _idle = new();
    private readonly int _size;
    private int _idleCount;
    private long _created;

    private KernelPipePool(int size) => _size = size;

    /// <summary>The shared pool for pipes of <paramref name="size"/> bytes.</summary>
    public static KernelPipePool ForSize(int size) => Pools.GetOrAdd(size, static size => new KernelPipePool(size));

    /// <summary>Idle pipes held now.</summary>
    public int IdleCount => Volatile.Read(ref _idleCount);

    /// <summary>Pipes created since start (for tests and benchmarks).</summary>
    public long Created => Interlocked.Read(ref _created);

    /// <summary>An empty pipe: an idle one, or a new one. False when the process is out of descriptors.</summary>
    public bool TryRent(out KernelPipe pipe)
    {
        if (_idle.TryDequeue(out pipe))
        {
            Interlocked.Decrement(ref _idleCount);
            return true;
        }

        if (KernelPipe.TryCreate(_size, out pipe))
        {
            Interlocked.Increment(ref _created);
            return true;
        }

        return false;
    }

    /// <summary>Takes back an empty pipe (or closes it when the pool is full).</summary>
    public void Return(KernelPipe pipe)
    {
        if (Interlocked.Increment(ref _idleCount) <= MaxIdle)
        {
            _idle.Enqueue(pipe);
            return;
        }

        Interlocked.Decrement(ref _idleCount);
        pipe.Close();
    }
}
