using System.Runtime.InteropServices;
using System.Text.Json;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using VipProxy.Config;
using VipProxy.Config.Diagnostics;
using VipProxy.Config.Model;
using VipProxy.Forwarding.Runtime;
using VipProxy.Host.Control;
using VipProxy.Host.Metrics;
using VipProxy.Host.Operations;
using VipProxy.Host.Status;
using VipProxy.Vrrp;

namespace VipProxy.Host;

/// <summary>
/// One node: the file's VRRP instances, the control socket, and SIGHUP reload. Start order puts listeners
/// before VRRP so that a node which becomes master can serve at once. Stop order depends on
/// <see cref="HandoverMode"/>: by default the VIP is handed over first (priority 0) and only then accepting stops
/// and connections drain, so clients move to the new master quickly; with <see cref="HandoverMode.AfterDrain"/> the
/// node first waits, still serving, for the connections open at SIGTERM to end.
/// </summary>
public sealed partial class NodeService : IHostedService, IAsyncDisposable
{
    private readonly DaemonOptions _options;
    private readonly ILoggerFactory _loggerFactory;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _reloadGate = new(1, 1);
    private readonly DateTimeOffset _startedAt;
    private KeepalivedConfig _config;
    private VrrpService? _vrrp;
    private VrrpScriptRunner? _vrrpScripts;
    private readonly LateFailureSink _failures = new();
    private readonly SessionShutdown _sessionShutdown;
    private ForwardingPlane? _forwarding;
    private HealthPlane? _health;
    private ControlSocketServer? _control;
    private NodeMetrics? _metrics;
    private PrometheusExporter? _exporter;
    private MetricsHttpServer? _metricsServer;
    private PosixSignalRegistration? _hangup;
    private ReloadStatus? _lastReload;

    public NodeService(DaemonOptions options, KeepalivedConfig config, ILoggerFactory loggerFactory, TimeProvider timeProvider)
    {
        _options = options;
        _config = config;
        _loggerFactory = loggerFactory;
        _timeProvider = timeProvider;
        _logger = loggerFactory.CreateLogger("vipproxy.node");
        _startedAt = timeProvider.GetUtcNow();
        _sessionShutdown = new SessionShutdown(_logger, timeProvider);
    }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        LoadOperatorState();
        _control = new ControlSocketServer(_options.SocketPath, StatusJson, HandleControlAsync, _loggerFactory.CreateLogger("vipproxy.control"));
        _control.Start();
        _metrics = new NodeMetrics(Status);
        if (_config.Global.MetricsListen is { } metricsEndpoint)
        {
            _exporter = new PrometheusExporter(NodeMetrics.MeterName, Forwarding.ForwardingMetrics.MeterName, HealthChecks.Monitoring.HealthCheckMetrics.MeterName);
            _metricsServer = new MetricsHttpServer(metricsEndpoint, _exporter.Scrape, _loggerFactory.CreateLogger("vipproxy.metrics"));
            _metricsServer.Start();
        }

        _forwarding = new ForwardingPlane(_loggerFactory, _timeProvider, _failures, ForwarderOptions.From(_config.Global));
        await _forwarding.StartAsync(_config.VirtualServers, cancellationToken).ConfigureAwait(false);
        _health = new HealthPlane(_forwarding, _config.Global, _loggerFactory, _timeProvider, _sessionShutdown);
        _failures.Target = _health;
        _health.QuorumChanged += ReportServiceHealth;
        _health.Start(_config.VirtualServers);
        _vrrpScripts = new VrrpScriptRunner(_config.Global, _loggerFactory.CreateLogger("vipproxy.vrrp.scripts"), _timeProvider);
        _vrrp = new VrrpService(_config, _loggerFactory, _timeProvider, new LinuxVrrpAdapters(_vrrpScripts));

        // Before VRRP starts: a demoted instance never takes the master role, and this node holds no VIP yet, so no
        // client reaches a drained server in between.
        ReconcileOperatorState();
        await _vrrp.StartAsync(cancellationToken).ConfigureAwait(false);
        ReportServiceHealth();
        _hangup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, context =>
        {
            context.Cancel = true; // SIGHUP means reload, never exit.
            _ = ReloadAsync();
        });
        LogStarted(_logger, _options.ConfigFile, _config.VrrpInstances.Count, _config.VirtualServers.Count);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        LogStopping(_logger, _options.Handover);
        _hangup?.Dispose();
        _hangup = null;
        TimeSpan drainLeft = _options.DrainTimeout;
        if (_options.Handover == HandoverMode.AfterDrain && _forwarding is not null)
        {
            long waitStarted = _timeProvider.GetTimestamp();
            int open = await _forwarding.WaitForOpenConnectionsAsync(_options.DrainTimeout, cancellationToken).ConfigureAwait(false);
            TimeSpan waited = _timeProvider.GetElapsedTime(waitStarted);
            LogDrainedBeforeHandover(_logger, open, waited.TotalMilliseconds);
            drainLeft = _options.DrainTimeout - waited;
            if (drainLeft < TimeSpan.Zero)
            {
                drainLeft = TimeSpan.Zero;
            }
        }

        if (_vrrp is not null)
        {
            await _vrrp.StopAsync(cancellationToken).ConfigureAwait(false);
        }

        if (_health is not null)
        {
            _failures.Target = null;
            await _health.DisposeAsync().ConfigureAwait(false);
            _health = null;
        }

        if (_forwarding is not null)
        {
            await _forwarding.StopAcceptingAsync().ConfigureAwait(false);
            bool drained = await _forwarding.DrainAsync(drainLeft, cancellationToken).ConfigureAwait(false);
            LogDrained(_logger, drained);
            await _forwarding.DisposeAsync().ConfigureAwait(false);
            _forwarding = null;
        }

        await DisposeMetricsAsync().ConfigureAwait(false);
        if (_control is not null)
        {
            await _control.DisposeAsync().ConfigureAwait(false);
            _control = null;
        }

        LogStopped(_logger);
    }

    /// <summary>
    /// SIGHUP: parse and validate the file again; on any error keep running the old configuration unchanged
    /// and log every error; otherwise apply only the difference.
    /// </summary>
    public async Task ReloadAsync()
    {
        await _reloadGate.WaitAsync().ConfigureAwait(false);
        try
        {
            LogReloading(_logger, _options.ConfigFile);
            ConfigLoadResult loaded = ConfigFile.Load(_options.ConfigFile, _options.NodeId);
            foreach (Diagnostic diagnostic in loaded.Diagnostics)
            {
                LogReloadDiagnostic(_logger, diagnostic.ToString());
            }

            if (loaded.Config is not { } config)
            {
                var errors = loaded.Errors.Select(e => e.ToString()).ToList();
                _lastReload = new ReloadStatus(_timeProvider.GetUtcNow(), Applied: false, errors);
                LogReloadRefused(_logger, errors.Count);
                return;
            }

            if (!await ApplyToPlanesAsync(_config, config).ConfigureAwait(false))
            {
                return;
            }

            _config = config;
            ReconcileOperatorState();
            ReportServiceHealth();
            _lastReload = new ReloadStatus(_timeProvider.GetUtcNow(), Applied: true, []);
            LogReloaded(_logger);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Reading the file failed; no plane was touched.
            _lastReload = new ReloadStatus(_timeProvider.GetUtcNow(), Applied: false, [e.Message]);
            LogReloadFailed(_logger, e);
        }
        finally
        {
            _reloadGate.Release();
        }
    }

    /// <summary>
    /// A reload is all or nothing: forwarding prepares (new listeners bind, removed ones keep accepting), then
    /// health checks and VRRP apply; only when every plane took the new file does forwarding commit (removed
    /// virtual servers drain). If a plane throws, the planes already changed get the running file back, so the
    /// status's "not applied" is true of every plane.
    /// </summary>
    /// <returns>Whether every plane runs <paramref name="next"/>.</returns>
    private async Task<bool> ApplyToPlanesAsync(KeepalivedConfig running, KeepalivedConfig next)
    {
        ForwardingPlane.ForwardingChange? forwarding = null;
        bool globalApplied = false;
        bool healthApplied = false;
        bool vrrpApplied = false;
        try
        {
            if (_forwarding is not null)
            {
                globalApplied = true;
                _forwarding.ApplyGlobal(next.Global);
                forwarding = await _forwarding.PrepareAsync(next.VirtualServers, _options.DrainTimeout, CancellationToken.None).ConfigureAwait(false);
            }

            if (_health is not null)
            {
                healthApplied = true;
                await _health.ApplyAsync(next).ConfigureAwait(false);
            }

            _vrrpScripts?.Use(next.Global);
            if (_vrrp is not null)
            {
                // Set before the call: a VRRP reload that throws half-way has changed some instances already.
                vrrpApplied = true;
                await ApplyVrrp(_vrrp, next, CancellationToken.None).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            LogReloadFailed(_logger, e);
            List<string> errors = [e.Message];
            await RollBackAsync(running, forwarding, globalApplied, healthApplied, vrrpApplied, errors).ConfigureAwait(false);
            _lastReload = new ReloadStatus(_timeProvider.GetUtcNow(), Applied: false, errors);
            return false;
        }

        forwarding?.Commit();
        return true;
    }

    private async Task RollBackAsync(KeepalivedConfig running, ForwardingPlane.ForwardingChange? forwarding, bool globalApplied, bool healthApplied, bool vrrpApplied, List<string> errors)
    {
        // In reverse order of the apply, each step on its own: one plane that cannot go back must not keep the others new.
        async Task Step(string plane, Func<Task> undo)
        {
            try
            {
                await undo().ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                LogRollbackFailed(_logger, plane, e);
                errors.Add($"rollback of {plane} failed: {e.Message}");
            }
        }

        if (vrrpApplied && _vrrp is { } vrrp)
        {
            await Step("vrrp", () => vrrp.ApplyConfigAsync(running, CancellationToken.None)).ConfigureAwait(false);
        }

        _vrrpScripts?.Use(running.Global);
        if (healthApplied && _health is { } health)
        {
            await Step("health checks", () => health.ApplyAsync(running)).ConfigureAwait(false);
        }

        if (forwarding is not null)
        {
            await Step("forwarding", () =>
            {
                forwarding.Rollback();
                return Task.CompletedTask;
            }).ConfigureAwait(false);
        }

        if (globalApplied)
        {
            _forwarding?.ApplyGlobal(running.Global);
        }

        ReportServiceHealth();
    }

    /// <summary>The VRRP plane's apply step; a seam so a test can make the last plane of a reload fail.</summary>
    internal Func<VrrpService, KeepalivedConfig, CancellationToken, Task> ApplyVrrp { get; init; } =
        static (vrrp, config, cancellationToken) => vrrp.ApplyConfigAsync(config, cancellationToken);

    /// <summary>
    /// The VIP follows a healthy forwarder: an instance is healthy only while every virtual server listening on
    /// one of its VIPs has quorum (instances with <c>dont_track_virtual_servers</c> are left alone by VrrpService).
    /// </summary>
    private void ReportServiceHealth()
    {
        if (_vrrp is not { } vrrp || _health is not { } health)
        {
            return;
        }

        KeepalivedConfig config = _config;
        foreach (VrrpInstance instance in config.VrrpInstances)
        {
            var served = config.VirtualServers
                .Where(v => VrrpService.InstanceForAddress(config, v.Endpoint.Address) == instance.Name)
                .ToList();
            bool healthy = served.All(v => health.HasQuorum(v.Endpoint));
            vrrp.SetServiceHealth(instance.Name, healthy);
        }
    }

    public StatusReport Status()
    {
        IReadOnlyList<VrrpInstanceStatus> vrrp = _vrrp?.GetStatus() ?? [];
        OperatorState operatorState = OperatorState;
        return new StatusReport(
            _config.Global.RouterId ?? Environment.MachineName,
            Environment.ProcessId,
            Path.GetFullPath(_options.ConfigFile),
            _startedAt,
            _lastReload,
            vrrp,
            (_forwarding?.Runtimes ?? []).Select(r => StatusMapping.From(r.GetStatus(), _health?.Status(r.Endpoint), operatorState, _health?.WriterConflict(r.Endpoint))).OrderBy(v => v.Address, StringComparer.Ordinal).ThenBy(v => v.Port).ToList())
        {
            OperatorState = new OperatorStateReport(_config.Global.StateFile, operatorState.Servers, operatorState.Instances),
        };
    }

    private string StatusJson() => JsonSerializer.Serialize(Status(), StatusJsonContext.Default.StatusReport);

    private async Task DisposeMetricsAsync()
    {
        if (_metricsServer is not null)
        {
            await _metricsServer.DisposeAsync().ConfigureAwait(false);
            _metricsServer = null;
        }

        _exporter?.Dispose();
        _exporter = null;
        _metrics?.Dispose();
        _metrics = null;
    }

    public async ValueTask DisposeAsync()
    {
        await DisposeMetricsAsync().ConfigureAwait(false);
        _hangup?.Dispose();
        if (_vrrp is not null)
        {
            await _vrrp.DisposeAsync().ConfigureAwait(false);
        }

        if (_health is not null)
        {
            await _health.DisposeAsync().ConfigureAwait(false);
        }

        if (_forwarding is not null)
        {
            await _forwarding.DisposeAsync().ConfigureAwait(false);
        }

        if (_control is not null)
        {
            await _control.DisposeAsync().ConfigureAwait(false);
        }

        _reloadGate.Dispose();
    }

    [LoggerMessage(EventId = 100, Level = LogLevel.Information, Message = "started from {File}: {Instances} vrrp_instance, {VirtualServers} virtual_server")]
    private static partial void LogStarted(ILogger logger, string file, int instances, int virtualServers);

    [LoggerMessage(EventId = 101, Level = LogLevel.Information, Message = "stopping (handover {Handover}): handing over VIPs and draining connections")]
    private static partial void LogStopping(ILogger logger, HandoverMode handover);

    [LoggerMessage(EventId = 102, Level = LogLevel.Information, Message = "stopped")]
    private static partial void LogStopped(ILogger logger);

    [LoggerMessage(EventId = 104, Level = LogLevel.Information, Message = "handover after drain: {Open} of the connections open at SIGTERM still open after {WaitedMs:F0} ms; handing over VIPs now")]
    private static partial void LogDrainedBeforeHandover(ILogger logger, int open, double waitedMs);

    [LoggerMessage(EventId = 103, Level = LogLevel.Information, Message = "connections drained: {Drained} (false: the rest were closed at the drain timeout)")]
    private static partial void LogDrained(ILogger logger, bool drained);

    [LoggerMessage(EventId = 110, Level = LogLevel.Information, Message = "SIGHUP: reloading {File}")]
    private static partial void LogReloading(ILogger logger, string file);

    [LoggerMessage(EventId = 111, Level = LogLevel.Warning, Message = "reload: {Diagnostic}")]
    private static partial void LogReloadDiagnostic(ILogger logger, string diagnostic);

    [LoggerMessage(EventId = 112, Level = LogLevel.Error, Message = "reload refused: {Count} error(s); the running configuration is unchanged")]
    private static partial void LogReloadRefused(ILogger logger, int count);

    [LoggerMessage(EventId = 113, Level = LogLevel.Information, Message = "reload applied")]
    private static partial void LogReloaded(ILogger logger);

    [LoggerMessage(EventId = 114, Level = LogLevel.Error, Message = "reload failed; the running configuration is kept (planes already changed are rolled back)")]
    private static partial void LogReloadFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 115, Level = LogLevel.Error, Message = "reload rollback of {Plane} failed; that plane may run part of the refused configuration")]
    private static partial void LogRollbackFailed(ILogger logger, string plane, Exception exception);

    /// <summary>The forwarder is created before the health plane it reports connect failures to.</summary>
    private sealed class LateFailureSink : IRealServerFailureSink
    {
        private volatile HealthPlane? _target;

        public HealthPlane? Target
        {
            get => _target;
            set => _target = value;
        }

        public void ConnectFailed(System.Net.IPEndPoint virtualServer, System.Net.IPEndPoint realServer, System.Net.Sockets.SocketError error) =>
            _target?.ConnectFailed(virtualServer, realServer, error);
    }
}
