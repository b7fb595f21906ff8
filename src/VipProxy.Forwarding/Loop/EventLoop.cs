using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using VipProxy.Forwarding.Logging;
using VipProxy.Forwarding.Runtime;

namespace VipProxy.Forwarding.Loop;

/// <summary>Something registered in a loop's epoll: a listener or a connection.</summary>
internal interface ILoopHandler
{
    /// <summary>Readiness of the descriptor registered as <paramref name="kind"/> (the handler's own numbering, 0–3)
    /// and <paramref name="attempt"/> (for a connection: which connect attempt the descriptor belongs to).</summary>
    void OnEvents(int kind, int attempt, uint events);

    /// <summary>An exception escaped <see cref="OnEvents"/> or a timer of this handler: close this handler only.</summary>
    void OnCrashed(Exception error);
}

/// <summary>
/// One forwarder event loop: a dedicated thread with its own edge-triggered epoll, its timer wheel, its relay
/// buffers and pipes, and a control mailbox. Everything a connection does (accept, connect, relay, timers, close)
/// runs here, so connection state needs no lock and no thread-pool hop.
/// </summary>
/// <remarks>
/// <para>Registration tokens: epoll carries a 64-bit token per descriptor, never the bare fd. It holds the handler's
/// slot (24 bits), the slot's generation (32 bits), a connect-attempt number (6 bits) and the descriptor's kind
/// (2 bits). A slot's generation changes when it is freed, so an event that was already queued for a descriptor
/// closed earlier in the same batch (whose number a new connection may already have reused) no longer matches and is
/// dropped: a byte of one connection never reaches another.</para>
/// <para>Control: other threads <see cref="Post"/> work to the mailbox (a queue and an eventfd); the loop runs it
/// between event batches. This is the only cross-thread entry, and it is not on the per-byte path.</para>
/// <para>Clock: ticks are milliseconds from <see cref="TimeProvider"/> timestamps, read once per iteration. With the
/// system clock the loop sleeps in epoll_wait until the next timer; with any other provider (a fake clock in tests)
/// epoll_wait sleeps without a timeout and a provider timer wakes the loop, so time moves only when the provider's
/// does.</para>
/// </remarks>
internal sealed unsafe class EventLoop : IDisposable
{
    /// <summary>Read size of the copy path; a read that fills it switches its direction to splice.</summary>
    public const int DefaultCopySize = 16 * 1024;

    /// <summary>Kernel pipe size for bulk bursts (1 MiB is the unprivileged maximum).</summary>
    public const int DefaultPipeSize = 256 * 1024;

    private const ulong WakeToken = ulong.MaxValue;
    private const int SlotBits = 24;
    private const int MaxSlots = 1 << SlotBits;
    private const int BatchSize = 256;

    private readonly ILoopKernel _kernel;
    private readonly TimeProvider _timeProvider;
    private readonly bool _systemClock;
    private readonly ILogger _logger;
    private readonly int _epollFd;
    private readonly int _wakeFd;
    private readonly EpollEvents _events = new(BatchSize);
    private readonly ConcurrentQueue<Action<EventLoop>> _mailbox = new();
    private readonly Queue<IReadyWork> _ready = new();
    private readonly long _startTimestamp;
    private readonly Thread _thread;
    private readonly ITimer? _providerTimer;
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private ILoopHandler?[] _handlers = new ILoopHandler?[1024];
    private uint[] _generations = new uint[1024];
    private readonly Stack<int> _freeSlots = new();
    private int _nextSlot;
    private int _wakeRequested;
    private long _providerTimerDue = long.MaxValue;
    private bool _stopping;
    private long _crashes;
    private long _iterations;
    private long _staleEvents;
    private long _logFlushDue = long.MaxValue;

    public EventLoop(int index, ILoopKernel kernel, TimeProvider timeProvider, ILogger logger, IConnectionLogSink connectionLog,
        int copySize = DefaultCopySize, int pipeSize = DefaultPipeSize)
    {
        Index = index;
        _kernel = kernel;
        _timeProvider = timeProvider;
        _systemClock = ReferenceEquals(timeProvider, TimeProvider.System);
        _logger = logger;
        ConnectionLog = connectionLog;
        CopySize = copySize;
        _startTimestamp = timeProvider.GetTimestamp();
        Wheel = new TimerWheel(0);
        Buffers = new BufferPool(copySize, maxIdle: 256);
        Pipes = new PipePool(kernel, pipeSize, maxIdle: 16);
        ReadBuffer = Buffers.Rent();

        _epollFd = kernel.EpollCreate();
        if (_epollFd < 0)
        {
            throw new InvalidOperationException($"epoll_create1 failed: errno {-_epollFd}");
        }

        _wakeFd = kernel.EventFdCreate();
        if (_wakeFd < 0 || kernel.EpollAdd(_epollFd, _wakeFd, LinuxConstants.EpollIn | LinuxConstants.EpollEt, WakeToken) < 0)
        {
            _ = kernel.Close(_epollFd);
            throw new InvalidOperationException($"eventfd for the loop mailbox failed: errno {-_wakeFd}");
        }

        if (!_systemClock)
        {
            _providerTimer = timeProvider.CreateTimer(static state => ((EventLoop)state!).Wake(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        }

        _thread = new Thread(Run) { IsBackground = true, Name = $"vipproxy-loop-{index}" };
    }

    /// <summary>The loop's number within its group (also its stripe in shared counters).</summary>
    public int Index { get; }

    public ILoopKernel Kernel => _kernel;

    public TimerWheel Wheel { get; }

    public BufferPool Buffers { get; }

    public PipePool Pipes { get; }

    public IConnectionLogSink ConnectionLog { get; }

    /// <summary>Read size of the copy path.</summary>
    public int CopySize { get; }

    /// <summary>The loop's scratch read buffer: a read lands here, and the buffer changes hands only when its bytes
    /// cannot all be written at once (the connection keeps it; the loop rents another).</summary>
    public byte* ReadBuffer { get; set; }

    /// <summary>Milliseconds since the loop started, as of this iteration.</summary>
    public long Now { get; private set; }

    /// <summary>Handlers that threw (each was closed, the loop went on).</summary>
    public long Crashes => Interlocked.Read(ref _crashes);

    /// <summary>Events dropped because their registration had ended (closed descriptor, reused slot).</summary>
    public long StaleEvents => Interlocked.Read(ref _staleEvents);

    /// <summary>Loop iterations (epoll_wait returns) so far.</summary>
    public long Iterations => Interlocked.Read(ref _iterations);

    public bool IsLoopThread => Thread.CurrentThread == _thread;

    /// <summary>Completes when the thread has exited.</summary>
    public Task Stopped => _stopped.Task;

    public void Start() => _thread.Start();

    /// <summary>Runs <paramref name="work"/> on the loop thread, after the current event batch.</summary>
    public void Post(Action<EventLoop> work)
    {
        _mailbox.Enqueue(work);
        Wake();
    }

    /// <summary>Runs <paramref name="work"/> on the loop thread and returns its result.</summary>
    public Task<T> InvokeAsync<T>(Func<EventLoop, T> work)
    {
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        Post(loop =>
        {
            try
            {
                done.TrySetResult(work(loop));
            }
#pragma warning disable CA1031 // The caller gets the exception through its task.
            catch (Exception error)
#pragma warning restore CA1031
            {
                done.TrySetException(error);
            }
        });
        if (Volatile.Read(ref _stopping) && _stopped.Task.IsCompleted)
        {
            done.TrySetException(new ObjectDisposedException(nameof(EventLoop)));
        }

        return done.Task;
    }

    /// <summary>Stops the thread after the work posted so far; the caller has closed every handler first.</summary>
    public Task StopAsync()
    {
        Post(static loop => loop._stopping = true);
        return _stopped.Task;
    }

    /// <summary>Registers a handler and returns its slot.</summary>
    public int Register(ILoopHandler handler)
    {
        int slot;
        if (!_freeSlots.TryPop(out slot))
        {
            if (_nextSlot == MaxSlots)
            {
                throw new InvalidOperationException("The loop has no free registration slot.");
            }

            slot = _nextSlot++;
            if (slot == _handlers.Length)
            {
                Array.Resize(ref _handlers, _handlers.Length * 2);
                Array.Resize(ref _generations, _generations.Length * 2);
            }
        }

        _handlers[slot] = handler;
        return slot;
    }

    /// <summary>Frees a slot: events still queued for its descriptors are dropped from now on.</summary>
    public void Unregister(int slot)
    {
        _handlers[slot] = null;
        _generations[slot]++;
        _freeSlots.Push(slot);
    }

    /// <summary>Adds <paramref name="fd"/> to the loop's epoll for reading, writing and peer shutdown, edge-triggered,
    /// once for its whole life (no epoll_ctl MOD per wait). Returns 0 or -errno.</summary>
    public int Watch(int fd, int slot, int kind, int attempt = 0) =>
        _kernel.EpollAdd(_epollFd, fd,
            LinuxConstants.EpollIn | LinuxConstants.EpollOut | LinuxConstants.EpollRdHup | LinuxConstants.EpollEt,
            CurrentToken(slot, kind, attempt));

    /// <summary>Removes <paramref name="fd"/> from the epoll (before handing a descriptor elsewhere; close removes it
    /// by itself).</summary>
    public int Unwatch(int fd) => _kernel.EpollDelete(_epollFd, fd);

    /// <summary>Asks the loop to run <paramref name="work"/> again after this batch: it stopped with
    /// bytes still readable so that one busy connection cannot starve the others.</summary>
    public void MarkReady(IReadyWork work) => _ready.Enqueue(work);

    /// <summary>Handlers registered now (listeners and connections).</summary>
    public IEnumerable<ILoopHandler> Handlers()
    {
        for (int slot = 0; slot < _nextSlot; slot++)
        {
            if (_handlers[slot] is { } handler)
            {
                yield return handler;
            }
        }
    }

    /// <summary>A connection log line was written on this loop: flush within <see cref="IConnectionLogSink.FlushInterval"/>.</summary>
    public void LogWritten()
    {
        if (_logFlushDue == long.MaxValue)
        {
            _logFlushDue = Now + (long)IConnectionLogSink.FlushInterval.TotalMilliseconds;
        }
    }

    /// <summary>Counts a crashed handler and logs it (called by the handler's own crash path).</summary>
    public void CountCrash() => Interlocked.Increment(ref _crashes);

    public void Dispose()
    {
        _providerTimer?.Dispose();
        _events.Dispose();
        Pipes.Dispose();
        if (ReadBuffer != null)
        {
            Buffers.Return(ReadBuffer);
            ReadBuffer = null;
        }

        Buffers.Dispose();
        _ = _kernel.Close(_wakeFd);
        _ = _kernel.Close(_epollFd);
    }

    private static ulong Token(int slot, int kind, int attempt) =>
        ((ulong)(uint)slot << 8) | ((ulong)(attempt & 0x3F) << 2) | (uint)(kind & 3);

    private void Wake()
    {
        if (Interlocked.Exchange(ref _wakeRequested, 1) == 0)
        {
            _ = _kernel.EventFdSignal(_wakeFd);
        }
    }

    private void UpdateNow() => Now = (long)_timeProvider.GetElapsedTime(_startTimestamp).TotalMilliseconds;

    private void Run()
    {
        try
        {
            UpdateNow();
            while (!_stopping)
            {
                int count = _kernel.EpollWait(_epollFd, _events, NextTimeout());
                UpdateNow();
                Volatile.Write(ref _iterations, _iterations + 1);
                bool mailbox = false;
                for (int i = 0; i < count; i++)
                {
                    ulong token = _events.TokenAt(i);
                    if (token == WakeToken)
                    {
                        mailbox = true;
                        continue;
                    }

                    Dispatch(token, _events.EventsAt(i));
                }

                if (mailbox || !_mailbox.IsEmpty)
                {
                    RunMailbox();
                }

                RunReady();
                Wheel.Advance(Now);
                if (Now >= _logFlushDue)
                {
                    _logFlushDue = long.MaxValue;
                    ConnectionLog.Flush(Index);
                }
            }

            ConnectionLog.Flush(Index);
        }
#pragma warning disable CA1031 // The loop's own bug: logged; the loop's connections are lost with it.
        catch (Exception fatal)
#pragma warning restore CA1031
        {
            LoopLog.LoopFailed(_logger, Index, fatal);
        }
        finally
        {
            _stopped.TrySetResult();
        }
    }

    private void Dispatch(ulong token, uint events)
    {
        int slot = (int)((token >> 8) & (MaxSlots - 1));
        uint generation = (uint)(token >> 32);
        ILoopHandler? handler = slot < _nextSlot ? _handlers[slot] : null;

        if (handler is null || generation != _generations[slot])
        {
            Interlocked.Increment(ref _staleEvents);
            return;
        }

        try
        {
            handler.OnEvents((int)(token & 3), (int)((token >> 2) & 0x3F), events);
        }
#pragma warning disable CA1031 // One connection's bug closes that connection only.
        catch (Exception error)
#pragma warning restore CA1031
        {
            Crash(handler, error);
        }
    }

    private void Crash(ILoopHandler handler, Exception error)
    {
        Interlocked.Increment(ref _crashes);
        try
        {
            handler.OnCrashed(error);
        }
#pragma warning disable CA1031 // The crash path itself failed: logged; the loop goes on.
        catch (Exception second)
#pragma warning restore CA1031
        {
            LoopLog.CrashHandlingFailed(_logger, Index, second);
        }
    }

    /// <summary>Runs a timer's callback with the same isolation as an event.</summary>
    public void RunTimer(ILoopHandler handler, Action action)
    {
        try
        {
            action();
        }
#pragma warning disable CA1031 // One connection's bug closes that connection only.
        catch (Exception error)
#pragma warning restore CA1031
        {
            Crash(handler, error);
        }
    }

    private void RunMailbox()
    {
        // Reset the wake flag before draining: work posted after this point signals the eventfd again.
        Volatile.Write(ref _wakeRequested, 0);
        _ = _kernel.EventFdDrain(_wakeFd);
        while (_mailbox.TryDequeue(out Action<EventLoop>? work))
        {
            try
            {
                work(this);
            }
#pragma warning disable CA1031 // A control operation's bug must not stop the loop.
            catch (Exception error)
#pragma warning restore CA1031
            {
                LoopLog.ControlFailed(_logger, Index, error);
            }
        }
    }

    private void RunReady()
    {
        int pending = _ready.Count;
        for (int i = 0; i < pending && _ready.TryDequeue(out IReadyWork? work); i++)
        {
            try
            {
                work.RunReady();
            }
#pragma warning disable CA1031 // One connection's bug closes that connection only.
            catch (Exception error)
#pragma warning restore CA1031
            {
                Crash(work, error);
            }
        }
    }

    private int NextTimeout()
    {
        if (_ready.Count > 0 || !_mailbox.IsEmpty)
        {
            return 0;
        }

        long? next = Wheel.NextDue();
        if (_logFlushDue != long.MaxValue)
        {
            next = Math.Min(next ?? long.MaxValue, _logFlushDue);
        }

        if (next is not { } due)
        {
            ArmProviderTimer(long.MaxValue);
            return -1;
        }

        long wait = Math.Max(0, due - Now);
        if (_systemClock)
        {
            return (int)Math.Min(wait, int.MaxValue);
        }

        ArmProviderTimer(due);
        return -1;
    }

    private void ArmProviderTimer(long due)
    {
        if (_providerTimer is null || due == _providerTimerDue)
        {
            return;
        }

        _providerTimerDue = due;
        _ = _providerTimer.Change(
            due == long.MaxValue ? Timeout.InfiniteTimeSpan : TimeSpan.FromMilliseconds(Math.Max(0, due - Now)),
            Timeout.InfiniteTimeSpan);
    }

    /// <summary>The token for <paramref name="slot"/>'s current registration.</summary>
    internal ulong CurrentToken(int slot, int kind, int attempt) => Token(slot, kind, attempt) | ((ulong)_generations[slot] << 32);
}
