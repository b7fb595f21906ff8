using System.Net;
using Microsoft.Extensions.Logging;
using VipProxy.Config.Model;
using VipProxy.Forwarding.Runtime;
using VipProxy.HealthChecks.Decisions;
using VipProxy.HealthChecks.Monitoring;
using VipProxy.HealthChecks.Probes;
using VipProxy.HealthChecks.Scripts;

namespace VipProxy.Host;

/// <summary>
/// Health checks of every virtual server. Real server up/down goes to the forwarder at once; quorum changes
/// go to <see cref="QuorumChanged"/>, which the node turns into VRRP service health so that the VIP moves away
/// from a node whose service is dead (the classic keepalived failure: VIP answers ping, MySQL is gone).
/// </summary>
public sealed partial class HealthPlane : IAsyncDisposable, IRealServerFailureSink
{
    private readonly ForwardingPlane _forwarding;
    private readonly HealthMonitorOptions _options;
    private readonly ILogger _logger;
    private readonly Dictionary<IPEndPoint, VirtualServerMonitor> _monitors = [];
    private readonly Dictionary<IPEndPoint, WriterFence> _fences = [];
    private readonly SessionShutdown _sessions;
    private readonly Lock _gate = new();
    private ScriptRunner _scripts;
    private HealthProbeFactory _probes;

    internal HealthPlane(ForwardingPlane forwarding, GlobalDefinitions global, ILoggerFactory loggerFactory, TimeProvider timeProvider, SessionShutdown sessions)
    {
        _forwarding = forwarding;
        _options = new HealthMonitorOptions { LoggerFactory = loggerFactory, TimeProvider = timeProvider };
        _logger = loggerFactory.CreateLogger("vipproxy.health");
        _sessions = sessions;
        (_scripts, _probes) = CreateRunners(global);
    }

    /// <summary>Raised after any virtual server gains or loses quorum.</summary>
    public event Action? QuorumChanged;

    public bool HasQuorum(IPEndPoint virtualServer)
    {
        lock (_gate)
        {
            return !_monitors.TryGetValue(virtualServer, out VirtualServerMonitor? monitor) || monitor.HasQuorum;
        }
    }

    /// <summary>The writer fence of a virtual server with <c>role primary</c> checks: (in conflict now, conflicts begun).</summary>
    public (bool InConflict, long Conflicts)? WriterConflict(IPEndPoint virtualServer)
    {
        WriterFence? fence;
        lock (_gate)
        {
            fence = _fences.GetValueOrDefault(virtualServer);
        }

        if (fence is null)
        {
            return null;
        }

        lock (fence)
        {
            return (fence.InConflict, fence.Conflicts);
        }
    }

    public VirtualServerHealthStatus? Status(IPEndPoint virtualServer)
    {
        lock (_gate)
        {
            return _monitors.GetValueOrDefault(virtualServer)?.Status;
        }
    }

    public void Start(IEnumerable<VirtualServer> virtualServers)
    {
        foreach (VirtualServer virtualServer in virtualServers)
        {
            Add(virtualServer);
        }
    }

    /// <summary>
    /// Reload: monitors of unchanged virtual servers keep running with their state; changed ones are replaced
    /// so new checkers and timings take effect at once; removed ones stop.
    /// </summary>
    public async Task ApplyAsync(KeepalivedConfig config)
    {
        (_scripts, _probes) = CreateRunners(config.Global);
        var wanted = config.VirtualServers.ToDictionary(v => v.Endpoint);
        List<VirtualServerMonitor> stale;
        lock (_gate)
        {
            stale = _monitors.Values.Where(m => !wanted.TryGetValue(m.VirtualServer.Endpoint, out VirtualServer? next) || !next.Equals(m.VirtualServer)).ToList();
            foreach (VirtualServerMonitor monitor in stale)
            {
                _monitors.Remove(monitor.VirtualServer.Endpoint);
                _fences.Remove(monitor.VirtualServer.Endpoint);
            }
        }

        foreach (VirtualServerMonitor monitor in stale)
        {
            await monitor.DisposeAsync().ConfigureAwait(false);
        }

        foreach (VirtualServer virtualServer in config.VirtualServers)
        {
            bool present;
            lock (_gate)
            {
                present = _monitors.ContainsKey(virtualServer.Endpoint);
            }

            if (!present)
            {
                Add(virtualServer);
            }
        }

        QuorumChanged?.Invoke();
    }

    private void Add(VirtualServer virtualServer)
    {
        // A replaced monitor (reload) starts each real server in the state the forwarder has for it, so a
        // server that was down stays down until a check brings it up, and one that was up is not flapped.
        VirtualServerTrafficStatus? current = _forwarding.Find(virtualServer.Endpoint)?.GetStatus();
        var realServers = virtualServer.RealServers
            .Select(server =>
            {
                bool startsDown = current?.Find(server.Endpoint) is { } known ? !known.Up : virtualServer.Alpha;
                return RealServerMonitor.Create(server, startsDown, _probes, _scripts, _options);
            })
            .ToList();
        var monitor = new VirtualServerMonitor(virtualServer, realServers, _scripts, _options);
        WriterFence? fence = WriterFence.Applies(virtualServer)
            ? new WriterFence([.. virtualServer.RealServers.Select(WriterFence.IsWriter)], [.. realServers.Select(r => r.Status.IsUp)], virtualServer.WriterConflict)
            : null;
        if (fence is not null)
        {
            // Writers assumed up before their first check: the fence holds back all but what it allows.
            for (int i = 0; i < realServers.Count; i++)
            {
                if (realServers[i].Status.IsUp && !fence.Forwards(i))
                {
                    _forwarding.Find(virtualServer.Endpoint)?.SetRealServerUp(realServers[i].Endpoint, false);
                }
            }
        }

        for (int index = 0; index < monitor.RealServers.Count; index++)
        {
            RealServerMonitor realServer = monitor.RealServers[index];
            int position = index;
            realServer.HealthChanged += (_, change) =>
            {
                if (fence is null)
                {
                    OnHealthChanged(virtualServer, position, change);
                }
                else
                {
                    OnWriterHealthChanged(virtualServer, fence, position, change);
                }
            };
            realServer.WeightChanged += (_, change) => _forwarding.Find(virtualServer.Endpoint)?.SetRealServerWeight(change.Status.Endpoint, change.Status.Weight);
        }

        monitor.QuorumChanged += (_, change) =>
        {
            LogQuorum(_logger, virtualServer.Endpoint, change.HasQuorum, change.LiveWeight);
            QuorumChanged?.Invoke();
        };
        lock (_gate)
        {
            _monitors[virtualServer.Endpoint] = monitor;
            if (fence is not null)
            {
                _fences[virtualServer.Endpoint] = fence;
            }
            else
            {
                _fences.Remove(virtualServer.Endpoint);
            }
        }

        monitor.Start();
    }

    /// <summary>
    /// The forwarder could not connect to a real server (the client was already redispatched): its checkers probe
    /// now rather than at their next delay_loop. Runs on the failing connection's path, so it only signals.
    /// </summary>
    public void ConnectFailed(IPEndPoint virtualServer, IPEndPoint realServer, System.Net.Sockets.SocketError error)
    {
        RealServerMonitor? monitor;
        lock (_gate)
        {
            monitor = _monitors.GetValueOrDefault(virtualServer)?.RealServers.FirstOrDefault(r => r.Endpoint.Equals(realServer));
        }

        if (monitor is not null)
        {
            LogCheckNow(_logger, realServer, virtualServer, error);
            monitor.CheckNow();
        }
    }

    private void OnHealthChanged(VirtualServer virtualServer, int index, RealServerHealthChangedEventArgs change)
    {
        LogRealServer(_logger, change.Status.Endpoint, virtualServer.Endpoint, change.Status.IsUp, change.Result.Reason);
        VirtualServerRuntime? runtime = _forwarding.Find(virtualServer.Endpoint);
        runtime?.SetRealServerUp(change.Status.Endpoint, change.Status.IsUp);
        if (!change.Status.IsUp && runtime is not null && virtualServer.RealServers[index].ShutdownSessionsOnDown is { } grace)
        {
            RealServerMonitor? monitor = MonitorOf(virtualServer.Endpoint, index);
            _sessions.After(runtime, change.Status.Endpoint, grace, () => monitor is null || !monitor.Status.IsUp, "down");
        }
    }

    private RealServerMonitor? MonitorOf(IPEndPoint virtualServer, int index)
    {
        lock (_gate)
        {
            return _monitors.GetValueOrDefault(virtualServer)?.RealServers[index];
        }
    }

    /// <summary>
    /// A writer pool's health change goes through its fence; the fence's changes are applied under its lock,
    /// withdrawals first, so the forwarder never has two writable servers in its pool, not even between two events.
    /// </summary>
    private void OnWriterHealthChanged(VirtualServer virtualServer, WriterFence fence, int index, RealServerHealthChangedEventArgs change)
    {
        LogRealServer(_logger, change.Status.Endpoint, virtualServer.Endpoint, change.Status.IsUp, change.Result.Reason);
        lock (fence)
        {
            bool wasInConflict = fence.InConflict;
            var changes = fence.Report(index, change.Status.IsUp);
            if (fence.InConflict && !wasInConflict)
            {
                string writable = string.Join(", ", fence.Writable().Select(i => virtualServer.RealServers[i].Endpoint.ToString()));
                LogWriterConflict(_logger, virtualServer.Endpoint, writable,
                    virtualServer.WriterConflict == WriterConflictPolicy.Refuse ? "taking none of them (writer_conflict refuse)" : "taking the first (writer_conflict first)");
            }
            else if (!fence.InConflict && wasInConflict)
            {
                LogWriterConflictOver(_logger, virtualServer.Endpoint);
            }

            VirtualServerRuntime? runtime = _forwarding.Find(virtualServer.Endpoint);
            foreach (var (server, forward) in changes)
            {
                runtime?.SetRealServerUp(virtualServer.RealServers[server].Endpoint, forward);
                if (!forward && runtime is not null && virtualServer.RealServers[server].ShutdownSessionsOnDown is { } grace)
                {
                    int withdrawn = server;
                    _sessions.After(runtime, virtualServer.RealServers[server].Endpoint, grace, () => { lock (fence) { return !fence.Forwards(withdrawn); } },
                        fence.InConflict ? "withheld as a second writer" : "down");
                }
            }
        }
    }

    private (ScriptRunner, HealthProbeFactory) CreateRunners(GlobalDefinitions global)
    {
        var scripts = new ScriptRunner(ScriptSettings.From(global), _logger, _options.TimeProvider);
        return (scripts, new HealthProbeFactory(scripts, _options.TimeProvider));
    }

    public async ValueTask DisposeAsync()
    {
        List<VirtualServerMonitor> monitors;
        lock (_gate)
        {
            monitors = [.. _monitors.Values];
            _monitors.Clear();
        }

        foreach (VirtualServerMonitor monitor in monitors)
        {
            await monitor.DisposeAsync().ConfigureAwait(false);
        }
    }

    [LoggerMessage(EventId = 300, Level = LogLevel.Warning, Message = "real_server {RealServer} of {VirtualServer} is now {Up}: {Reason}")]
    private static partial void LogRealServerCore(ILogger logger, IPEndPoint realServer, IPEndPoint virtualServer, string up, string reason);

    private static void LogRealServer(ILogger logger, IPEndPoint realServer, IPEndPoint virtualServer, bool up, string reason) =>
        LogRealServerCore(logger, realServer, virtualServer, up ? "UP" : "DOWN", reason);

    [LoggerMessage(EventId = 302, Level = LogLevel.Debug, Message = "forwarder connect to {RealServer} of virtual_server {VirtualServer} failed ({Error}): checking it now")]
    private static partial void LogCheckNow(ILogger logger, IPEndPoint realServer, IPEndPoint virtualServer, System.Net.Sockets.SocketError error);

    [LoggerMessage(EventId = 303, Level = LogLevel.Error, Message = "virtual_server {VirtualServer}: more than one writer reports writable ({Writable}): {Action}")]
    private static partial void LogWriterConflict(ILogger logger, IPEndPoint virtualServer, string writable, string action);

    [LoggerMessage(EventId = 304, Level = LogLevel.Warning, Message = "virtual_server {VirtualServer}: writer conflict over, one writer reports writable")]
    private static partial void LogWriterConflictOver(ILogger logger, IPEndPoint virtualServer);

    [LoggerMessage(EventId = 301, Level = LogLevel.Warning, Message = "virtual_server {VirtualServer} quorum {HasQuorum} (live weight {LiveWeight})")]
    private static partial void LogQuorum(ILogger logger, IPEndPoint virtualServer, bool hasQuorum, long liveWeight);
}
