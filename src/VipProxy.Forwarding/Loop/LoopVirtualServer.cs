using VipProxy.Forwarding.Relay;
using VipProxy.Forwarding.Runtime;

namespace VipProxy.Forwarding.Loop;

/// <summary>Work a loop resumes after the current batch (see <see cref="EventLoop.MarkReady"/>).</summary>
internal interface IReadyWork : ILoopHandler
{
    void RunReady();
}

/// <summary>
/// One virtual server on one loop: that loop's SO_REUSEPORT listening socket for it, and the count of its
/// connections living on the loop (for drain). Touched only on its loop's thread.
/// </summary>
internal sealed class LoopVirtualServer : ILoopTimerTarget, IReadyWork
{
    /// <summary>Most connections accepted per wakeup before the loop serves other descriptors (the rest are accepted
    /// after the batch, without waiting for a new edge).</summary>
    private const int AcceptBudget = 64;

    /// <summary>Pause after an accept error that is not about one client (EMFILE, ENOBUFS), so the loop cannot spin.</summary>
    private const int AcceptErrorBackoffMs = 100;

    private const int BackoffTag = 1;
    private const int DrainTag = 2;

    private readonly LoopTimer _backoff;
    private readonly LoopTimer _drainTimer;
    private int _fd;
    private int _slot = -1;
    private TaskCompletionSource<bool>? _drained;
    private bool _drainCut;

    public LoopVirtualServer(EventLoop loop, VirtualServerRuntime runtime, int listenFd)
    {
        Loop = loop;
        Runtime = runtime;
        _fd = listenFd;
        _backoff = new LoopTimer(this, BackoffTag);
        _drainTimer = new LoopTimer(this, DrainTag);
    }

    public EventLoop Loop { get; }

    public VirtualServerRuntime Runtime { get; }

    /// <summary>Connections of this virtual server living on this loop.</summary>
    public int LiveConnections { get; private set; }

    public bool IsAccepting => _fd >= 0;

    /// <summary>The listening descriptor (-1 once closed); for tests that read its options back.</summary>
    public int ListenFd => _fd;

    /// <summary>On the loop: starts watching the listening socket (its queue may already hold clients).</summary>
    public void StartAccepting()
    {
        _slot = Loop.Register(this);
        int result = Loop.Watch(_fd, _slot, kind: 0);
        if (result < 0)
        {
            throw new InvalidOperationException($"epoll_ctl ADD of the listening socket failed: errno {-result}");
        }

        Loop.MarkReady(this);
    }

    /// <summary>On the loop: closes the listening socket. Established connections are not touched; clients still in
    /// this socket's accept queue are reset by the kernel.</summary>
    public void StopAccepting()
    {
        if (_fd < 0)
        {
            return;
        }

        Loop.Wheel.Cancel(_backoff);
        _ = Loop.Kernel.Close(_fd);
        _fd = -1;
        if (_slot >= 0)
        {
            Loop.Unregister(_slot);
            _slot = -1;
        }
    }

    public void OnEvents(int kind, int attempt, uint events) => AcceptAll();

    public void RunReady() => AcceptAll();

    public void OnCrashed(Exception error)
    {
        // Accepting itself failed unexpectedly: log it and try again after the back-off, never lose the listener.
        ForwardingLog.ListenerCrashed(Runtime.Logger, Runtime.Endpoint, Loop.Index, error);
        if (_fd >= 0)
        {
            Loop.Wheel.Schedule(_backoff, Loop.Now + AcceptErrorBackoffMs);
        }
    }

    public void OnTimer(LoopTimer timer, long now)
    {
        if (timer.Tag == BackoffTag)
        {
            Loop.RunTimer(this, AcceptAll);
        }
        else if (timer.Tag == DrainTag && _drained is not null)
        {
            // The drain deadline: whatever still runs is closed by the proxy.
            _drainCut = true;
            Runtime.CloseOnLoop(Loop, connection => true, CloseReason.Shutdown);
            CompleteDrainIfDone();
        }
    }

    /// <summary>A connection of this virtual server started on this loop.</summary>
    public void ConnectionStarted() => LiveConnections++;

    /// <summary>A connection of this virtual server on this loop ended.</summary>
    public void ConnectionEnded()
    {
        LiveConnections--;
        CompleteDrainIfDone();
    }

    /// <summary>On the loop: completes with true once every connection here ended by itself, or with false when
    /// <paramref name="deadline"/> (loop ticks) came first and the rest were closed.</summary>
    public Task<bool> DrainAsync(long deadline)
    {
        var drained = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        if (LiveConnections == 0)
        {
            drained.TrySetResult(true);
            return drained.Task;
        }

        // A second drain (a shutdown after a reload's drain) joins the first and keeps the earlier deadline.
        if (_drained is not null)
        {
            return _drained.Task;
        }

        _drained = drained;
        _drainCut = false;
        Loop.Wheel.Schedule(_drainTimer, deadline);
        return drained.Task;
    }

    private void CompleteDrainIfDone()
    {
        if (_drained is not null && LiveConnections == 0)
        {
            Loop.Wheel.Cancel(_drainTimer);
            TaskCompletionSource<bool> drained = _drained;
            _drained = null;
            drained.TrySetResult(!_drainCut);
        }
    }

    private void AcceptAll()
    {
        for (int accepted = 0; _fd >= 0; accepted++)
        {
            if (accepted == AcceptBudget)
            {
                Loop.MarkReady(this);
                return;
            }

            int fd = Loop.Kernel.Accept(_fd, out SocketAddressBuffer peer);
            if (fd >= 0)
            {
                Runtime.OnAccepted(this, fd, in peer);
                continue;
            }

            int errno = -fd;
            if (errno == LinuxConstants.EAGAIN)
            {
                return;
            }

            if (Errno.IsTransientAccept(errno))
            {
                continue; // one client gave up while queued; the others are still there
            }

            // Out of descriptors or memory: the queue stays full and edge-triggered epoll would not report it
            // again, so retry after a pause.
            ForwardingLog.AcceptFailed(Runtime.Logger, Runtime.Endpoint, Errno.ToSocketError(errno));
            Loop.Wheel.Schedule(_backoff, Loop.Now + AcceptErrorBackoffMs);
            return;
        }
    }
}
