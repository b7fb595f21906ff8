using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using VipProxy.Config.Model;
using VipProxy.Forwarding.Admission;
using VipProxy.Forwarding.Logging;
using VipProxy.Forwarding.Loop;
using VipProxy.Forwarding.Persistence;
using VipProxy.Forwarding.Relay;
using VipProxy.Forwarding.Scheduling;

namespace VipProxy.Forwarding.Runtime;

/// <summary>
/// One running <c>virtual_server</c>: its listening sockets (one per event loop), the scheduler snapshot,
/// persistence, per-real-server counters, and its proxied connections, which live on the event loops. The host
/// creates one per virtual server, reports health with <see cref="SetRealServerUp"/>, reloads with
/// <see cref="ApplyConfig"/>, and stops it with <see cref="DrainAsync"/> or <see cref="DisposeAsync"/>.
/// </summary>
/// <remarks>
/// <para>Concurrency: a connection and everything it does belongs to one loop thread (see
/// <see cref="EventLoopGroup"/>). The loops read an immutable <see cref="DispatchSnapshot"/> published with
/// <see cref="Volatile.Write{T}(ref T, T)"/>; control operations (health, reload, housekeeping) serialise on one
/// control lock, build a new snapshot and publish it. Counters shared by the loops are <see cref="Interlocked"/>
/// and touched per connection, not per read; live byte counts are per-loop cells. Operations on live connections
/// (list, close, drain) go to the loops through their mailboxes.</para>
/// <para>This file holds construction and lifecycle; dispatch, control, connections and status are in the other
/// parts.</para>
/// </remarks>
public sealed partial class VirtualServerRuntime : IAsyncDisposable
{
    private static long s_nextConnectionId;

    private readonly ForwarderOptions _options;
    private readonly IRealServerFailureSink _failureSink;
    private readonly ILogger _logger;
    private readonly TimeProvider _timeProvider;
    private readonly EventLoopGroup _loops;
    private readonly bool _ownsLoops;
    private readonly IConnectionLogSink _connectionLog;
    private readonly Lock _control = new();
    private readonly long[] _closeReasons = new long[CloseReasonSides.Count];
    private readonly ConnectionCounters _sorryCounters = new();
    private readonly SourceAdmissionTable _sources;
    private readonly ITimer _housekeeping;
    private readonly ITimer _suspectTimer;

    private DispatchSnapshot _snapshot;
    private List<RealServerSlot> _slots = [];
    private readonly List<RealServerSlot> _draining = [];
    private PersistenceTable? _persistence;
    private LoopVirtualServer[] _bindings = [];
    private IPEndPoint? _localEndpoint;
    private long _openConnections;
    private long _acceptedConnections;
    private long _crashes;
    private int _accepting;
    private int _disposed;

    /// <summary>Builds the runtime for <paramref name="config"/>; nothing listens until <see cref="StartAsync"/>.</summary>
    /// <param name="config">The virtual server. Real servers start up unless <c>alpha</c> is set.</param>
    /// <param name="options">Forwarder settings (defaults when null).</param>
    /// <param name="failureSink">Told about failed forwarder connects (ignored when null).</param>
    /// <param name="logger">Logger (nothing logged when null).</param>
    /// <param name="timeProvider">Clock for persistence, per-source rates and hold-downs (the loops' clock when
    /// <paramref name="loops"/> is given, else the system clock when null).</param>
    /// <param name="loops">The event loops to run on; null: the runtime starts
    /// <see cref="ForwarderOptions.Threads"/> loops of its own (on <paramref name="timeProvider"/>) and stops them
    /// when disposed.</param>
    /// <param name="connectionLog">Where the line per connection goes; null: the loops' shared log, else
    /// <paramref name="logger"/> (EventId 1000), or nothing when <see cref="ForwarderOptions.LogConnections"/> is
    /// off.</param>
    public VirtualServerRuntime(
        VirtualServer config,
        ForwarderOptions? options = null,
        IRealServerFailureSink? failureSink = null,
        ILogger? logger = null,
        TimeProvider? timeProvider = null,
        EventLoopGroup? loops = null,
        IConnectionLogSink? connectionLog = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        _options = options ?? ForwarderOptions.Default;
        _failureSink = failureSink ?? NullRealServerFailureSink.Instance;
        _logger = logger ?? NullLogger.Instance;
        _timeProvider = timeProvider ?? loops?.TimeProvider ?? TimeProvider.System;
        if (loops is null)
        {
            loops = new EventLoopGroup(_options.Threads, _timeProvider, _logger, null, _options.Kernel, _options.CopySize);
            _ownsLoops = true;
        }

        _loops = loops;
        _connectionLog = connectionLog ?? (!_options.LogConnections
            ? NullConnectionLog.Instance
            : loops.ConnectionLog ?? new LoggerConnectionLog(_logger));
        Endpoint = config.Endpoint;
        _endpointLabel = config.Endpoint.ToString();

        foreach (RealServer server in config.RealServers)
        {
            _slots.Add(new RealServerSlot(server, up: !config.Alpha));
        }

        _persistence = CreatePersistenceTable(config, null);
        _sources = new SourceAdmissionTable(_timeProvider, _options.MaxTrackedSources);
        _snapshot = BuildSnapshot(config);
        _housekeeping = _timeProvider.CreateTimer(
            static state => ((VirtualServerRuntime)state!).Housekeep(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        _suspectTimer = _timeProvider.CreateTimer(
            static state => ((VirtualServerRuntime)state!).ExpireSuspects(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    // Metric labels, made once: recording a measurement must not allocate per connection.
    private static readonly string[] CloseReasonNames = Enum.GetNames<CloseReason>();
    private readonly string _endpointLabel;

    /// <summary>The configured listening address (the identity of this virtual server).</summary>
    public IPEndPoint Endpoint { get; }

    /// <summary>The bound address once started (with the real port when configured with port 0).</summary>
    public IPEndPoint? LocalEndpoint => Volatile.Read(ref _localEndpoint);

    /// <summary>The configuration in force.</summary>
    public VirtualServer Config => Volatile.Read(ref _snapshot).Config;

    /// <summary>The event loops this virtual server runs on.</summary>
    public EventLoopGroup Loops => _loops;

    /// <summary>Connections whose handling threw (each was closed with <see cref="CloseReason.ProxyError"/>).</summary>
    public long Crashes => Interlocked.Read(ref _crashes);

    /// <summary>This virtual server on each loop.</summary>
    internal IReadOnlyList<LoopVirtualServer> Bindings => _bindings;

    internal DispatchSnapshot Snapshot => Volatile.Read(ref _snapshot);

    internal ForwarderOptions Options => _options;

    internal ILogger Logger => _logger;

    internal TimeProvider TimeProvider => _timeProvider;

    /// <summary>
    /// Binds one listening socket per loop (SO_REUSEPORT, SO_REUSEADDR, IP_FREEBIND, so a backup node can listen on a
    /// VIP it does not hold yet) and starts accepting. Throws <see cref="SocketException"/> if the address cannot be
    /// bound, including when another socket already listens there.
    /// </summary>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (_bindings.Length != 0)
        {
            throw new InvalidOperationException("The virtual server is already started.");
        }

        int[] fds = ListenerSockets.BindGroup(_loops.Kernel, Endpoint, _loops.Count, _options.ListenBacklog, out IPEndPoint bound);
        var bindings = new LoopVirtualServer[fds.Length];
        for (int i = 0; i < fds.Length; i++)
        {
            bindings[i] = new LoopVirtualServer(_loops.Loops[i], this, fds[i]);
        }

        _bindings = bindings;
        Volatile.Write(ref _localEndpoint, bound);
        Volatile.Write(ref _accepting, 1);
        await Task.WhenAll(bindings.Select(binding => binding.Loop.InvokeAsync(_ =>
        {
            binding.StartAccepting();
            return true;
        }))).ConfigureAwait(false);
        ForwardingLog.Listening(_logger, Endpoint, bound, bindings.Length);
        RescheduleHousekeeping();
    }

    /// <summary>Stops accepting new clients; established connections continue untouched.</summary>
    public async Task StopAcceptingAsync()
    {
        if (Interlocked.Exchange(ref _accepting, 0) == 0)
        {
            return;
        }

        await OnEachLoopAsync(binding =>
        {
            binding.StopAccepting();
            return true;
        }).ConfigureAwait(false);
        ForwardingLog.StoppedListening(_logger, Endpoint);
    }

    /// <summary>
    /// Stops accepting and waits up to <paramref name="timeout"/> (on the loops' clock) for every connection to end
    /// by itself; then closes the remaining ones (close reason <see cref="CloseReason.Shutdown"/>).
    /// </summary>
    /// <returns>True when every connection ended by itself within the timeout.</returns>
    public async Task<bool> DrainAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        await StopAcceptingAsync().ConfigureAwait(false);
        long timeoutMs = timeout == Timeout.InfiniteTimeSpan ? long.MaxValue / 2 : Math.Max(0, (long)timeout.TotalMilliseconds);
        Task<bool>[] drains = await Task.WhenAll(_bindings.Select(binding => binding.Loop.InvokeAsync(loop =>
            binding.DrainAsync(loop.Now + timeoutMs)))).ConfigureAwait(false);
        bool[] drained = await Task.WhenAll(drains).WaitAsync(cancellationToken).ConfigureAwait(false);
        if (!drained.All(done => done))
        {
            ForwardingLog.DrainTimedOut(_logger, Endpoint);
            return false;
        }

        return true;
    }

    /// <summary>Stops accepting, closes every connection (<see cref="CloseReason.Shutdown"/>), and releases the
    /// timers (and the loops, when the runtime started its own).</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await StopAcceptingAsync().ConfigureAwait(false);
        await CloseWhereAsync(_ => true, CloseReason.Shutdown).ConfigureAwait(false);
        await _housekeeping.DisposeAsync().ConfigureAwait(false);
        await _suspectTimer.DisposeAsync().ConfigureAwait(false);
        if (_ownsLoops)
        {
            await _loops.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>On a loop, right after accept4: the connection takes over the descriptor.</summary>
    internal void OnAccepted(LoopVirtualServer binding, int fd, in SocketAddressBuffer peer)
    {
        Interlocked.Increment(ref _acceptedConnections);
        var connection = new LoopConnection(binding, Interlocked.Increment(ref s_nextConnectionId), fd, peer.ToEndPoint());
        connection.Start(Snapshot);
    }

    /// <summary>On <paramref name="loop"/>: closes this virtual server's connections there that match.</summary>
    internal int CloseOnLoop(EventLoop loop, Func<LoopConnection, bool> match, CloseReason reason)
    {
        List<LoopConnection>? matched = null;
        foreach (ILoopHandler handler in loop.Handlers())
        {
            if (handler is LoopConnection connection && ReferenceEquals(connection.Runtime, this) && match(connection))
            {
                (matched ??= []).Add(connection);
            }
        }

        foreach (LoopConnection connection in matched ?? [])
        {
            connection.Abort(reason);
        }

        return matched?.Count ?? 0;
    }

    private async Task<int> CloseWhereAsync(Func<LoopConnection, bool> match, CloseReason reason)
    {
        int[] closed = await OnEachLoopAsync(binding => CloseOnLoop(binding.Loop, match, reason)).ConfigureAwait(false);
        return closed.Sum();
    }

    private Task<T[]> OnEachLoopAsync<T>(Func<LoopVirtualServer, T> work) =>
        Task.WhenAll(_bindings.Select(binding => binding.Loop.InvokeAsync(_ => work(binding))));

    private PersistenceTable? CreatePersistenceTable(VirtualServer config, PersistenceTable? current)
    {
        if (config.PersistenceTimeout is not { } timeout || timeout <= TimeSpan.Zero)
        {
            return null;
        }

        PersistenceGranularity granularity = config.PersistenceGranularity.AddressFamily == AddressFamily.InterNetwork
            ? PersistenceGranularity.FromNetmask(config.PersistenceGranularity)
            : PersistenceGranularity.PerClient;

        // Keep the table (and every client's stickiness) across a reload that does not change persistence.
        return current is not null && current.Timeout == timeout && current.Granularity == granularity
            ? current
            : new PersistenceTable(timeout, granularity, _timeProvider);
    }
}
