using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using VipProxy.Config.Model;
using VipProxy.HealthChecks.Decisions;
using VipProxy.HealthChecks.Probes;
using VipProxy.HealthChecks.Scripts;

namespace VipProxy.HealthChecks.Monitoring;

/// <summary>
/// Watches a virtual server: one <see cref="RealServerMonitor"/> per real server, and the quorum over the sum of
/// the weights of the live ones (<see cref="QuorumEvaluator"/>: quorum ± hysteresis). Raises
/// <see cref="QuorumChanged"/> and runs quorum_up/quorum_down on each change; the VRRP side consumes it to move the
/// VIP away from a node whose service is dead.
/// </summary>
/// <remarks>
/// The initial quorum state follows the initial weights (all real servers up, or none with <c>alpha</c>) without a
/// transition, so no quorum script runs at start-up. Changes of the real servers are re-evaluated by one consumer,
/// so quorum events are raised in order, one at a time.
/// </remarks>
public sealed partial class VirtualServerMonitor : IAsyncDisposable
{
    private readonly VirtualServer _virtualServer;
    private readonly RealServerMonitor[] _realServers;
    private readonly QuorumEvaluator _quorum;
    private readonly NotifyScriptLauncher _notify;
    private readonly ILogger _logger;
    private readonly Channel<bool> _changes = Channel.CreateBounded<bool>(
        new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true });
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _gate = new();
    private long _liveWeight;
    private bool _hasQuorum;
    private Task _consumer = Task.CompletedTask;
    private int _started;
    private int _disposed;

    /// <summary>Creates the monitor over already created real server monitors (which it then owns).</summary>
    public VirtualServerMonitor(
        VirtualServer virtualServer, IReadOnlyList<RealServerMonitor> realServers, ScriptRunner scripts, HealthMonitorOptions options)
    {
        ArgumentNullException.ThrowIfNull(virtualServer);
        ArgumentNullException.ThrowIfNull(realServers);
        ArgumentNullException.ThrowIfNull(scripts);
        ArgumentNullException.ThrowIfNull(options);
        _virtualServer = virtualServer;
        _realServers = [.. realServers];
        _logger = options.LoggerFactory.CreateLogger<VirtualServerMonitor>();
        _notify = new NotifyScriptLauncher(scripts, options.NotifyScriptTimeout, _logger);
        _liveWeight = LiveWeightNow();
        _hasQuorum = _liveWeight > 0 && _liveWeight >= virtualServer.Quorum;
        _quorum = new QuorumEvaluator(virtualServer.Quorum, virtualServer.Hysteresis, _hasQuorum);
        foreach (RealServerMonitor realServer in _realServers)
        {
            realServer.HealthChanged += (_, _) => _changes.Writer.TryWrite(true);
            realServer.WeightChanged += (_, _) => _changes.Writer.TryWrite(true);
        }
    }

    /// <summary>Creates the monitors of a configured virtual server and all its real servers.</summary>
    public static VirtualServerMonitor Create(
        VirtualServer virtualServer, HealthProbeFactory probes, ScriptRunner scripts, HealthMonitorOptions options)
    {
        ArgumentNullException.ThrowIfNull(virtualServer);
        var realServers = virtualServer.RealServers
            .Select(server => RealServerMonitor.Create(server, virtualServer.Alpha, probes, scripts, options))
            .ToList();
        return new VirtualServerMonitor(virtualServer, realServers, scripts, options);
    }

    /// <summary>Raised when quorum is gained or lost.</summary>
    public event EventHandler<QuorumChangedEventArgs>? QuorumChanged;

    /// <summary>The virtual server's configuration.</summary>
    public VirtualServer VirtualServer => _virtualServer;

    /// <summary>The real server monitors, in configuration order.</summary>
    public IReadOnlyList<RealServerMonitor> RealServers => _realServers;

    /// <summary>Whether the virtual server has quorum.</summary>
    public bool HasQuorum
    {
        get
        {
            lock (_gate)
            {
                return _hasQuorum;
            }
        }
    }

    /// <summary>A snapshot of the virtual server and its real servers.</summary>
    public VirtualServerHealthStatus Status
    {
        get
        {
            lock (_gate)
            {
                return new VirtualServerHealthStatus(_virtualServer.Endpoint, _hasQuorum, _liveWeight,
                    [.. _realServers.Select(r => r.Status)]);
            }
        }
    }

    /// <summary>Starts every real server's checkers (once).</summary>
    public void Start()
    {
        ObjectDisposedException.ThrowIf(_stopping.IsCancellationRequested, this);
        if (Interlocked.Exchange(ref _started, 1) != 0)
        {
            return;
        }

        CancellationToken token = _stopping.Token;
        _consumer = Task.Run(() => ConsumeAsync(token), token);
        foreach (RealServerMonitor realServer in _realServers)
        {
            realServer.Start();
        }
    }

    /// <summary>Stops all checks and scripts promptly.</summary>
    public async Task StopAsync()
    {
        if (Volatile.Read(ref _disposed) != 0 && _stopping.IsCancellationRequested)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(_realServers.Select(r => r.StopAsync())).ConfigureAwait(false);
        _changes.Writer.TryComplete();
        try
        {
            await _consumer.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // The consumer ends by cancellation.
        }

        await _notify.WhenAllAsync().ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await StopAsync().ConfigureAwait(false);
        foreach (RealServerMonitor realServer in _realServers)
        {
            await realServer.DisposeAsync().ConfigureAwait(false);
        }

        _stopping.Dispose();
    }

    private long LiveWeightNow() => _realServers.Sum(r => r.Status is { IsUp: true } s ? (long)s.Weight : 0L);

    private async Task ConsumeAsync(CancellationToken cancellationToken)
    {
        await foreach (bool _ in _changes.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
        {
            long liveWeight = LiveWeightNow();
            QuorumTransition transition;
            lock (_gate)
            {
                _liveWeight = liveWeight;
                transition = _quorum.Evaluate(liveWeight);
                _hasQuorum = _quorum.IsUp;
            }

            if (transition == QuorumTransition.None)
            {
                continue;
            }

            bool up = transition == QuorumTransition.QuorumUp;
            LogQuorum(_logger, _virtualServer.Endpoint.ToString(), up ? "gained" : "lost", liveWeight,
                _virtualServer.Quorum, _virtualServer.Hysteresis);
            try
            {
                QuorumChanged?.Invoke(this, new QuorumChangedEventArgs(transition, liveWeight));
            }
#pragma warning disable CA1031 // A subscriber's bug must not stop quorum tracking.
            catch (Exception e)
#pragma warning restore CA1031
            {
                LogHandlerFailed(_logger, _virtualServer.Endpoint.ToString(), e);
            }

            _notify.Launch(up ? _virtualServer.QuorumUp : _virtualServer.QuorumDown,
                $"{(up ? "quorum_up" : "quorum_down")} {_virtualServer.Endpoint}", cancellationToken);
        }
    }

    [LoggerMessage(EventId = 420, Level = LogLevel.Warning, Message = "Virtual server {Endpoint} {Change} quorum: live weight {LiveWeight}, quorum {Quorum} ± {Hysteresis}")]
    private static partial void LogQuorum(ILogger logger, string endpoint, string change, long liveWeight, int quorum, int hysteresis);

    [LoggerMessage(EventId = 421, Level = LogLevel.Error, Message = "A quorum event handler for {Endpoint} failed")]
    private static partial void LogHandlerFailed(ILogger logger, string endpoint, Exception exception);
}
