using System.Net;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Hosting.Systemd;
using VipProxy.Config.Model;
using VipProxy.Forwarding.Logging;
using VipProxy.Forwarding.Loop;
using VipProxy.Forwarding.Runtime;

namespace VipProxy.Host;

/// <summary>
/// Every virtual server of the file, each a listener with its real servers. On reload, virtual servers are
/// matched by address and port: unchanged ones are left alone, changed ones are updated in place (their
/// listening socket and connections stay), removed ones stop accepting and drain in the background. All of them
/// run on one set of event loops (<c>forwarder_threads</c>), and write the connection log (<c>log_connections</c>)
/// through one batched writer to stdout.
/// </summary>
public sealed partial class ForwardingPlane : IAsyncDisposable
{
    private readonly ILoggerFactory _loggerFactory;
    private readonly TimeProvider _timeProvider;
    private readonly IRealServerFailureSink _failureSink;
    private readonly ForwarderOptions _options;
    private readonly ILogger _logger;
    private readonly Dictionary<IPEndPoint, VirtualServerRuntime> _runtimes = [];
    private readonly List<Task> _draining = [];
    private readonly Lock _gate = new();
    private readonly EventLoopGroup _loops;
    private readonly BatchedConnectionLog _connectionLog;
    private readonly ConnectionLogSwitch _connectionLogSwitch;

    public ForwardingPlane(ILoggerFactory loggerFactory, TimeProvider timeProvider, IRealServerFailureSink failureSink, ForwarderOptions? options = null)
    {
        _loggerFactory = loggerFactory;
        _timeProvider = timeProvider;
        _failureSink = failureSink;
        _options = options ?? ForwarderOptions.Default;
        _logger = loggerFactory.CreateLogger("vipproxy.forwarding");
        int threads = _options.Threads > 0 ? _options.Threads : EventLoopGroup.DefaultThreads;

        // Same shape as the console logger's lines (journald's "<6>" prefix under systemd). The writer exists even
        // with log_connections off, so a reload can switch the log on.
        _connectionLog = new BatchedConnectionLog(threads, Console.OpenStandardOutput(),
            SystemdHelpers.IsSystemdService() ? ConnectionLogStyle.Journal : ConnectionLogStyle.Console, timeProvider);
        _connectionLogSwitch = new ConnectionLogSwitch(_connectionLog, _options.LogConnections);
        _loops = new EventLoopGroup(threads, timeProvider, _logger, _connectionLogSwitch);
        _options = _options with { LogConnections = true }; // the switch decides
        LogLoops(_logger, threads, _connectionLogSwitch.Enabled ? "on" : "off");
    }

    /// <summary>A reload's <c>global_defs</c>: <c>log_connections</c> applies at once; a changed
    /// <c>forwarder_threads</c> only at the next start (connections live on their loops).</summary>
    public void ApplyGlobal(GlobalDefinitions global)
    {
        ArgumentNullException.ThrowIfNull(global);
        if (_connectionLogSwitch.Enabled != global.LogConnections)
        {
            _connectionLogSwitch.Enabled = global.LogConnections;
            LogConnectionLog(_logger, global.LogConnections ? "on" : "off");
        }

        int wanted = global.ForwarderThreads ?? EventLoopGroup.DefaultThreads;
        if (wanted != _loops.Count)
        {
            LogThreadsAtRestart(_logger, _loops.Count, wanted);
        }
    }

    /// <summary>The forwarder's event loops.</summary>
    public EventLoopGroup Loops => _loops;

    public IReadOnlyCollection<VirtualServerRuntime> Runtimes
    {
        get
        {
            lock (_gate)
            {
                return [.. _runtimes.Values];
            }
        }
    }

    public VirtualServerRuntime? Find(IPEndPoint endpoint)
    {
        lock (_gate)
        {
            return _runtimes.GetValueOrDefault(endpoint);
        }
    }

    public async Task StartAsync(IEnumerable<VirtualServer> virtualServers, CancellationToken cancellationToken)
    {
        foreach (VirtualServer virtualServer in virtualServers)
        {
            await AddAsync(virtualServer, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Applies a new set of virtual servers; established connections are never cut.</summary>
    public async Task ApplyAsync(IReadOnlyList<VirtualServer> virtualServers, TimeSpan drainTimeout, CancellationToken cancellationToken)
    {
        ForwardingChange change = await PrepareAsync(virtualServers, drainTimeout, cancellationToken).ConfigureAwait(false);
        change.Commit();
    }

    /// <summary>
    /// The first half of a reload: new virtual servers bind and start accepting, changed ones take their new
    /// settings, and removed ones keep accepting until <see cref="ForwardingChange.Commit"/>. Nothing here is
    /// lost that <see cref="ForwardingChange.Rollback"/> cannot restore, so a reload that fails in a later
    /// plane leaves forwarding as it was. A failure here (a listener that cannot bind) undoes itself and throws.
    /// </summary>
    public async Task<ForwardingChange> PrepareAsync(IReadOnlyList<VirtualServer> virtualServers, TimeSpan drainTimeout, CancellationToken cancellationToken)
    {
        var wanted = virtualServers.ToDictionary(v => v.Endpoint);
        List<VirtualServerRuntime> removed;
        lock (_gate)
        {
            removed = _runtimes.Values.Where(r => !wanted.ContainsKey(r.Endpoint)).ToList();
        }

        var change = new ForwardingChange(this, removed, drainTimeout);
        try
        {
            foreach (VirtualServer virtualServer in virtualServers)
            {
                VirtualServerRuntime? existing = Find(virtualServer.Endpoint);
                if (existing is null)
                {
                    change.Added.Add(await AddAsync(virtualServer, cancellationToken).ConfigureAwait(false));
                }
                else if (!existing.Config.Equals(virtualServer))
                {
                    VirtualServer previous = existing.Config;
                    existing.ApplyConfig(virtualServer);
                    change.Changed.Add((existing, previous));
                }
            }
        }
        catch
        {
            change.Rollback();
            throw;
        }

        return change;
    }

    /// <summary>A prepared reload of the forwarding plane: commit it, or roll it back to the running set.</summary>
    public sealed class ForwardingChange
    {
        private readonly ForwardingPlane _plane;
        private readonly List<VirtualServerRuntime> _removed;
        private readonly TimeSpan _drainTimeout;

        internal ForwardingChange(ForwardingPlane plane, List<VirtualServerRuntime> removed, TimeSpan drainTimeout)
        {
            _plane = plane;
            _removed = removed;
            _drainTimeout = drainTimeout;
        }

        internal List<VirtualServerRuntime> Added { get; } = [];

        internal List<(VirtualServerRuntime Runtime, VirtualServer Previous)> Changed { get; } = [];

        /// <summary>Removed virtual servers stop accepting and drain in the background.</summary>
        public void Commit()
        {
            foreach (VirtualServerRuntime runtime in _removed)
            {
                _plane.Remove(runtime, _drainTimeout);
            }
        }

        /// <summary>New virtual servers close again (they accepted only during the reload) and changed ones take
        /// back their previous settings; removed ones were never stopped.</summary>
        public void Rollback()
        {
            foreach ((VirtualServerRuntime runtime, VirtualServer previous) in Changed)
            {
                runtime.ApplyConfig(previous);
            }

            foreach (VirtualServerRuntime runtime in Added)
            {
                _plane.Remove(runtime, TimeSpan.Zero);
            }

            Changed.Clear();
            Added.Clear();
        }
    }

    private void Remove(VirtualServerRuntime runtime, TimeSpan drainTimeout)
    {
        lock (_gate)
        {
            _runtimes.Remove(runtime.Endpoint);
        }

        LogRemoved(_logger, runtime.Endpoint);
        Task drain = DrainAndDisposeAsync(runtime, drainTimeout);
        lock (_gate)
        {
            _draining.RemoveAll(t => t.IsCompleted);
            _draining.Add(drain);
        }
    }

    /// <summary>
    /// For <see cref="HandoverMode.AfterDrain"/>: waits, while every listener keeps accepting, until the connections
    /// open now have all ended or <paramref name="timeout"/> passed. Connections accepted meanwhile are not waited
    /// for, or a busy service would never hand over.
    /// </summary>
    /// <returns>How many of the connections open at the call are still open.</returns>
    public async Task<int> WaitForOpenConnectionsAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        VirtualServerRuntime[] runtimes = [.. Runtimes];
        long[][] ids = await Task.WhenAll(runtimes.Select(r => r.OpenConnectionIdsAsync())).ConfigureAwait(false);
        long started = _timeProvider.GetTimestamp();
        while (true)
        {
            int[] open = await Task.WhenAll(runtimes.Select((r, i) => r.CountOpenAsync(ids[i]))).ConfigureAwait(false);
            int left = open.Sum();
            if (left == 0 || _timeProvider.GetElapsedTime(started) >= timeout || cancellationToken.IsCancellationRequested)
            {
                return left;
            }
            // A shutdown path: polling every 50 ms costs nothing and needs no hook in the per-connection code.
            await Task.Delay(DrainPollInterval, _timeProvider, CancellationToken.None).ConfigureAwait(false);
        }
    }

    private static readonly TimeSpan DrainPollInterval = TimeSpan.FromMilliseconds(50);

    /// <summary>Shutdown, step one: no new clients anywhere.</summary>
    public async Task StopAcceptingAsync()
    {
        foreach (VirtualServerRuntime runtime in Runtimes)
        {
            await runtime.StopAcceptingAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Shutdown, step two: established connections get <paramref name="timeout"/> to finish.</summary>
    public async Task<bool> DrainAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        bool[] drained = await Task.WhenAll(Runtimes.Select(r => r.DrainAsync(timeout, cancellationToken))).ConfigureAwait(false);
        return drained.All(d => d);
    }

    private async Task<VirtualServerRuntime> AddAsync(VirtualServer virtualServer, CancellationToken cancellationToken)
    {
        var runtime = new VirtualServerRuntime(
            virtualServer, _options, _failureSink,
            _loggerFactory.CreateLogger($"vipproxy.vs.{virtualServer.Endpoint}"), _timeProvider, _loops);
        await runtime.StartAsync(cancellationToken).ConfigureAwait(false);
        lock (_gate)
        {
            _runtimes[virtualServer.Endpoint] = runtime;
        }

        return runtime;
    }

    private static async Task DrainAndDisposeAsync(VirtualServerRuntime runtime, TimeSpan timeout)
    {
        await runtime.StopAcceptingAsync().ConfigureAwait(false);
        await runtime.DrainAsync(timeout).ConfigureAwait(false);
        await runtime.DisposeAsync().ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        Task[] draining;
        lock (_gate)
        {
            draining = [.. _draining];
        }

        await Task.WhenAll(draining).ConfigureAwait(false);
        foreach (VirtualServerRuntime runtime in Runtimes)
        {
            await runtime.DisposeAsync().ConfigureAwait(false);
        }

        lock (_gate)
        {
            _runtimes.Clear();
        }

        await _loops.DisposeAsync().ConfigureAwait(false);
        _connectionLog.Dispose();
    }

    [LoggerMessage(EventId = 202, Level = LogLevel.Information, Message = "reload: connection log {ConnectionLog}")]
    private static partial void LogConnectionLog(ILogger logger, string connectionLog);

    [LoggerMessage(EventId = 203, Level = LogLevel.Warning, Message = "reload: forwarder_threads {Wanted} takes effect at the next start; {Running} event loops keep running")]
    private static partial void LogThreadsAtRestart(ILogger logger, int running, int wanted);

    [LoggerMessage(EventId = 201, Level = LogLevel.Information, Message = "forwarder: {Threads} event loops, connection log {ConnectionLog}")]
    private static partial void LogLoops(ILogger logger, int threads, string connectionLog);

    [LoggerMessage(EventId = 200, Level = LogLevel.Information, Message = "virtual_server {Endpoint} removed by reload: stops accepting and drains")]
    private static partial void LogRemoved(ILogger logger, IPEndPoint endpoint);
}
