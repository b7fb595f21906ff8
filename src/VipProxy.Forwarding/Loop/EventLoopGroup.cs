using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using VipProxy.Forwarding.Logging;

namespace VipProxy.Forwarding.Loop;

/// <summary>
/// The forwarder's event loops (<c>forwarder_threads N</c>): each one thread with its own epoll. Every virtual
/// server gets one SO_REUSEPORT listening socket per loop, so the kernel spreads new connections over the loops and
/// each connection stays on the loop that accepted it.
/// </summary>
public sealed class EventLoopGroup : IAsyncDisposable
{
    private readonly EventLoop[] _loops;
    private int _disposed;

    /// <summary>Starts <paramref name="threads"/> loops (default: the CPUs this process may run on).</summary>
    /// <param name="threads">Number of loops; 0 or less means <see cref="DefaultThreads"/>.</param>
    /// <param name="timeProvider">The loops' clock (timeouts, drain deadlines, connection ages).</param>
    /// <param name="logger">For the loops' own failures.</param>
    /// <param name="connectionLog">The connection log every virtual server on these loops writes to; null: each
    /// virtual server logs through its own <see cref="ILogger"/>.</param>
    public EventLoopGroup(int threads = 0, TimeProvider? timeProvider = null, ILogger? logger = null, IConnectionLogSink? connectionLog = null)
        : this(threads, timeProvider, logger, connectionLog, LinuxLoopKernel.Instance)
    {
    }

    internal EventLoopGroup(int threads, TimeProvider? timeProvider, ILogger? logger, IConnectionLogSink? connectionLog, ILoopKernel kernel,
        int copySize = EventLoop.DefaultCopySize)
    {
        int count = threads > 0 ? threads : DefaultThreads;
        TimeProvider = timeProvider ?? TimeProvider.System;
        ConnectionLog = connectionLog;
        Kernel = kernel;
        ILogger log = logger ?? NullLogger.Instance;
        IConnectionLogSink flushTarget = connectionLog ?? NullConnectionLog.Instance;
        _loops = new EventLoop[count];
        for (int i = 0; i < count; i++)
        {
            _loops[i] = new EventLoop(i, kernel, TimeProvider, log, flushTarget, copySize);
        }

        foreach (EventLoop loop in _loops)
        {
            loop.Start();
        }
    }

    /// <summary>The CPUs this process may run on (sched_getaffinity, as <see cref="Environment.ProcessorCount"/>
    /// reports it on Linux).</summary>
    public static int DefaultThreads => Math.Max(1, Environment.ProcessorCount);

    /// <summary>Number of loops.</summary>
    public int Count => _loops.Length;

    /// <summary>The loops' clock.</summary>
    public TimeProvider TimeProvider { get; }

    /// <summary>The shared connection log, or null.</summary>
    public IConnectionLogSink? ConnectionLog { get; }

    internal ILoopKernel Kernel { get; }

    internal IReadOnlyList<EventLoop> Loops => _loops;

    /// <summary>Handlers that threw, over all loops (each closed its own connection only).</summary>
    public long Crashes => _loops.Sum(loop => loop.Crashes);

    /// <summary>Events dropped because their descriptor's registration had ended.</summary>
    public long StaleEvents => _loops.Sum(loop => loop.StaleEvents);

    /// <summary>Relay buffers held now by connections (idle connections hold none), over all loops.</summary>
    public Task<long> HeldBuffersAsync() => SumAsync(loop => loop.Buffers.Outstanding - 1);

    /// <summary>Kernel pipes held now by connections, over all loops.</summary>
    public Task<long> HeldPipesAsync() => SumAsync(loop => loop.Pipes.Outstanding);

    /// <summary>Kernel pipes created since start, over all loops.</summary>
    public Task<long> CreatedPipesAsync() => SumAsync(loop => loop.Pipes.Created);

    /// <summary>Stops every loop; the virtual servers on them must have been disposed first.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await Task.WhenAll(_loops.Select(loop => loop.StopAsync())).ConfigureAwait(false);
        foreach (EventLoop loop in _loops)
        {
            loop.Dispose();
        }
    }

    private async Task<long> SumAsync(Func<EventLoop, long> read)
    {
        long[] values = await Task.WhenAll(_loops.Select(loop => loop.InvokeAsync(read))).ConfigureAwait(false);
        return values.Sum();
    }
}
