using System.Runtime.InteropServices;

namespace VipProxy.Forwarding.Loop;

/// <summary>
/// A loop's relay buffers: native memory (no GC, no pinning; stable addresses for the kernel), rented only while a
/// direction holds bytes its destination has not taken. Loop-local, so no locks.
/// </summary>
internal sealed unsafe class BufferPool(int bufferSize, int maxIdle) : IDisposable
{
    private readonly Stack<nint> _idle = new();
    private long _outstanding;

    /// <summary>The size of every buffer.</summary>
    public int BufferSize { get; } = bufferSize;

    /// <summary>Buffers rented and not returned (held by connections, and the loop's read buffer).</summary>
    public long Outstanding => Volatile.Read(ref _outstanding);

    /// <summary>Buffers allocated and idle in the pool.</summary>
    public int IdleCount => _idle.Count;

    public byte* Rent()
    {
        _outstanding++;
        return _idle.TryPop(out nint buffer) ? (byte*)buffer : (byte*)NativeMemory.Alloc((nuint)BufferSize);
    }

    public void Return(byte* buffer)
    {
        _outstanding--;
        if (_idle.Count < maxIdle)
        {
            _idle.Push((nint)buffer);
        }
        else
        {
            NativeMemory.Free(buffer);
        }
    }

    public void Dispose()
    {
        while (_idle.TryPop(out nint buffer))
        {
            NativeMemory.Free((void*)buffer);
        }
    }
}

/// <summary>A kernel pipe for splice(2): both ends O_NONBLOCK|O_CLOEXEC.</summary>
internal readonly record struct KernelPipe(int ReadFd, int WriteFd, int Capacity)
{
    public bool IsValid => ReadFd >= 0;

    public static KernelPipe None => new(-1, -1, 0);
}

/// <summary>
/// A loop's empty kernel pipes: a direction takes one when a bulk burst starts and gives it back, empty, when its
/// source is drained, so an idle connection holds no pipe and no extra descriptor, and bursts do not pay pipe2 +
/// fcntl + two closes each. Loop-local, so no locks. A pipe that still holds bytes is closed by its owner, never
/// returned.
/// </summary>
internal sealed class PipePool(ILoopKernel kernel, int pipeSize, int maxIdle) : IDisposable
{
    private readonly Stack<KernelPipe> _idle = new();

    /// <summary>Pipes created since start.</summary>
    public long Created { get; private set; }

    /// <summary>Pipes rented and not returned or closed.</summary>
    public int Outstanding { get; private set; }

    public int IdleCount => _idle.Count;

    /// <summary>An empty pipe, or false when none can be made (out of descriptors): the caller copies instead.</summary>
    public bool TryRent(out KernelPipe pipe)
    {
        if (!_idle.TryPop(out pipe))
        {
            int capacity = kernel.Pipe(pipeSize, out int readFd, out int writeFd);
            if (capacity < 0)
            {
                pipe = KernelPipe.None;
                return false;
            }

            pipe = new KernelPipe(readFd, writeFd, capacity);
            Created++;
        }

        Outstanding++;
        return true;
    }

    public void Return(KernelPipe pipe)
    {
        Outstanding--;
        if (_idle.Count < maxIdle)
        {
            _idle.Push(pipe);
        }
        else
        {
            Close(pipe);
        }
    }

    /// <summary>Closes a pipe that may still hold bytes.</summary>
    public void Discard(KernelPipe pipe)
    {
        Outstanding--;
        Close(pipe);
    }

    public void Dispose()
    {
        while (_idle.TryPop(out KernelPipe pipe))
        {
            Close(pipe);
        }
    }

    private void Close(KernelPipe pipe)
    {
        _ = kernel.Close(pipe.ReadFd);
        _ = kernel.Close(pipe.WriteFd);
    }
}
