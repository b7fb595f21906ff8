using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using VipProxy.Config.Model;
using VipProxy.Forwarding.Admission;
using VipProxy.Forwarding.Listening;
using VipProxy.Forwarding.Persistence;
using VipProxy.Forwarding.Relay;
using VipProxy.Forwarding.Scheduling;

namespace VipProxy.Forwarding.Runtime;

/// <summary>
/// One running <c>virtual_server</c>: its listener, the scheduler snapshot, persistence, per-real-server counters,
/// and every proxied connection. The host creates one per virtual server, reports health with
/// <see cref="SetRealServerUp"/>, reloads with <see cref="ApplyConfig"/>, and stops it with
/// <see cref="DrainAsync"/> or <see cref="DisposeAsync"/>.
/// </summary>
/// <remarks>
/// <para>Concurrency: the data path (accept, dispatch, relay) takes no lock. It reads an immutable
/// <see cref="DispatchSnapshot"/> published with <see cref="Volatile.Write{T}(ref T, T)"/>; control operations
/// (health, reload, housekeeping) serialise on one control lock, build a new snapshot, and publish it. Shared
/// counters are <see cref="Interlocked"/> and touched per connection, not per read.</para>
/// <para>This file holds construction and lifecycle; dispatch, control and status are in the other parts.</para>
/// </remarks>
public sealed partial class VirtualServerRuntime : IAsyncDisposable
{
    private readonly ForwarderOptions _options;
    private readonly IRealServerFailureSink _failureSink;
    private readonly ILogger _logger;
    private readonly TimeProvider _timeProvider;
    private readonly IRelay _relay;
    private readonly Lock _control = new();
    private readonly ConcurrentDictionary<long, ProxiedConnection> _connections = new();
    private readonly long[] _closeReasons = new long[CloseReasonSides.Count];
    private readonly ConnectionCounters _sorryCounters = new();
    private readonly SourceAdmissionTable _sources;
    private readonly VirtualServerListener _listener;
    private readonly ITimer _housekeeping;
    private readonly ITimer _suspectTimer;

    private DispatchSnapshot _snapshot;
    private List<RealServerSlot> _slots = [];
    private readonly List<RealServerSlot> _draining = [];
    private PersistenceTable? _persistence;
    private long _nextConnectionId;
    private long _openConnections;
    private long _acceptedConnections;
    private int _handlers;
    private TaskCompletionSource? _handlersIdle;
    private int _housekeepingRunning;
    private long _lastPersistenceSweepTick;
    private int _disposed;

    /// <summary>Builds the runtime for <paramref name="config"/>; nothing listens until <see cref="StartAsync"/>.</summary>
    /// <param name="config">The virtual server. Real servers start up unless <c>alpha</c> is set.</param>
    /// <param name="options">Forwarder settings (defaults when null).</param>
    /// <param name="failureSink">Told about failed forwarder connects (ignored when null).</param>
    /// <param name="logger">Logger (nothing logged when null).</param>
    /// <param name="timeProvider">Clock for persistence, timers and connect timeouts (system clock when null).</param>
    /// <param name="relay">The data path (from <see cref="ForwarderOptions.Relay"/> when null).</param>
    public VirtualServerRuntime(
        VirtualServer config,
        ForwarderOptions? options = null,
        IRealServerFailureSink? failureSink = null,
        ILogger? logger = null,
        TimeProvider? timeProvider = null,
        IRelay? relay = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        _options = options ?? ForwarderOptions.Default;
        _failureSink = failureSink ?? NullRealServerFailureSink.Instance;
        _logger = logger ?? NullLogger.Instance;
        _timeProvider = timeProvider ?? TimeProvider.System;
        _relay = relay ?? RelayFactory.Create(_options.Relay, _options.RelayBufferSize);
        Endpoint = config.Endpoint;
        _endpointLabel = config.Endpoint.ToString();

        foreach (RealServer server in config.RealServers)
        {
            _slots.Add(new RealServerSlot(server, up: !config.Alpha));
        }

        _persistence = CreatePersistenceTable(config, null);
        _sources = new SourceAdmissionTable(_timeProvider, _options.MaxTrackedSources);
        _snapshot = BuildSnapshot(config);
        _listener = new VirtualServerListener(config.Endpoint, _options.ListenBacklog, OnAccepted, _logger);
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
    public IPEndPoint? LocalEndpoint => _listener.LocalEndpoint;

    /// <summary>The configuration in force.</summary>
    public VirtualServer Config => Volatile.Read(ref _snapshot).Config;

    /// <summary>The data path in use.</summary>
    public IRelay Relay => _relay;

    /// <summary>Binds the listener and starts accepting. Throws if the address cannot be bound.</summary>
    public Task StartAsync(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        _listener.Start();
        RescheduleHousekeeping(Config);
        return Task.CompletedTask;
    }

    /// <summary>Stops accepting new clients; established connections continue untouched.</summary>
    public Task StopAcceptingAsync() => _listener.StopAsync();

    /// <summary>The ids of the connections open now, for a caller that waits for exactly these to end.</summary>
    public long[] OpenConnectionIds() => [.. _connections.Keys];

    /// <summary>Whether the connection with this id is still open.</summary>
    public bool IsOpen(long connectionId) => _connections.ContainsKey(connectionId);

    /// <summary>
    /// Stops accepting and waits up to <paramref name="timeout"/> for every connection to end by itself; then closes
    /// the remaining ones (close reason <see cref="CloseReason.Shutdown"/>) and waits for them to finish.
    /// </summary>
    /// <returns>True when every connection ended by itself within the timeout.</returns>
    public async Task<bool> DrainAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        await StopAcceptingAsync().ConfigureAwait(false);
        bool drained = await WaitForHandlersAsync(timeout, cancellationToken).ConfigureAwait(false);
        if (!drained)
        {
            ForwardingLog.DrainTimedOut(_logger, Endpoint, _connections.Count);
            AbortAll(CloseReason.Shutdown);
            await WaitForHandlersAsync(Timeout.InfiniteTimeSpan, CancellationToken.None).ConfigureAwait(false);
        }

        return drained;
    }

    /// <summary>Stops accepting, closes every connection (<see cref="CloseReason.Shutdown"/>), waits for them, and
    /// releases the timer.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _listener.DisposeAsync().ConfigureAwait(false);
        AbortAll(CloseReason.Shutdown);
        await WaitForHandlersAsync(Timeout.InfiniteTimeSpan, CancellationToken.None).ConfigureAwait(false);
        await _housekeeping.DisposeAsync().ConfigureAwait(false);
        await _suspectTimer.DisposeAsync().ConfigureAwait(false);
    }

    private void AbortAll(CloseReason reason)
    {
        foreach (KeyValuePair<long, ProxiedConnection> pair in _connections)
        {
            pair.Value.Abort(reason);
        }
    }

    /// <summary>Waits until no connection handler runs. Only meaningful once accepting has stopped.</summary>
    private async Task<bool> WaitForHandlersAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        var idle = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Interlocked.Exchange(ref _handlersIdle, idle);
        if (Volatile.Read(ref _handlers) == 0)
        {
            idle.TrySetResult();
        }

        try
        {
            await idle.Task.WaitAsync(timeout, _timeProvider, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }

    private void HandlerFinished()
    {
        if (Interlocked.Decrement(ref _handlers) == 0)
        {
            Volatile.Read(ref _handlersIdle)?.TrySetResult();
        }
    }

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
