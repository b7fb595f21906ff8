using System.Net;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using VipProxy.Config.Model;
using VipProxy.Core.ProxyProtocol;
using VipProxy.HealthChecks.Decisions;
using VipProxy.HealthChecks.Probes;
using VipProxy.HealthChecks.Scripts;

namespace VipProxy.HealthChecks.Monitoring;

/// <summary>
/// Watches one real server: runs each of its checkers on its own schedule, combines their states (up only while
/// all pass), raises <see cref="HealthChanged"/> and runs notify_up/notify_down on every change, and follows the
/// weight that <c>misc_dynamic</c> scripts set.
/// </summary>
/// <remarks>
/// Checker loops run concurrently and post their results to one queue; a single consumer applies them in order,
/// so the aggregate needs no lock and events are raised one at a time, in order, never under a lock. Handlers run
/// on that consumer and should be quick.
/// </remarks>
public sealed partial class RealServerMonitor : IAsyncDisposable
{
    private readonly RealServer _server;
    private readonly CheckerLoop[] _checkers;
    private readonly RealServerHealth _health;
    private readonly NotifyScriptLauncher _notify;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    // A null item is a slowstart tick: the ramp's weight is recomputed on the same single consumer as the reports.
    private readonly Channel<CheckerReport?> _reports = Channel.CreateUnbounded<CheckerReport?>(
        new UnboundedChannelOptions { SingleReader = true });
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _statusGate = new();
    private RealServerHealthStatus _status;
    private readonly bool[] _reported;
    private bool _startupDone;
    private int _targetWeight;
    private long? _rampStartedAt;
    private ITimer? _rampTimer;
    private Task _running = Task.CompletedTask;
    private int _started;
    private int _disposed;

    /// <summary>Creates the monitor with one probe per checker, in the order of <see cref="RealServer.Checkers"/>.</summary>
    /// <param name="server">The real server.</param>
    /// <param name="probes">Its probes with their timing.</param>
    /// <param name="alpha">keepalived's <c>alpha</c>: start down until the checkers pass.</param>
    /// <param name="scripts">Runs notify scripts.</param>
    /// <param name="options">Clock, randomness, logging.</param>
    public RealServerMonitor(
        RealServer server, IReadOnlyList<(IHealthProbe Probe, CheckTiming Timing)> probes, bool alpha,
        ScriptRunner scripts, HealthMonitorOptions options)
    {
        ArgumentNullException.ThrowIfNull(server);
        ArgumentNullException.ThrowIfNull(probes);
        ArgumentNullException.ThrowIfNull(scripts);
        ArgumentNullException.ThrowIfNull(options);
        _server = server;
        _timeProvider = options.TimeProvider;
        _logger = options.LoggerFactory.CreateLogger<RealServerMonitor>();
        _notify = new NotifyScriptLauncher(scripts, options.NotifyScriptTimeout, _logger);
        bool initialUp = !alpha;
        _checkers = [.. probes.Select((p, i) => new CheckerLoop(i, p.Probe, p.Timing, initialUp, options.Random, _timeProvider, server.Endpoint.ToString()))];
        _health = new RealServerHealth(_checkers.Length, initialUp);
        _reported = new bool[_checkers.Length];
        _startupDone = _checkers.Length == 0;
        _targetWeight = server.Weight;
        _status = new RealServerHealthStatus(server.Endpoint, _health.IsUp, server.Weight, null, null, null,
            [.. _checkers.Select(c => c.InitialStatus)]);
    }

    /// <summary>Creates the monitor of a configured real server, with the probes its checkers describe.</summary>
    public static RealServerMonitor Create(
        RealServer server, bool alpha, HealthProbeFactory probes, ScriptRunner scripts, HealthMonitorOptions options)
    {
        ArgumentNullException.ThrowIfNull(server);
        ArgumentNullException.ThrowIfNull(probes);
        var checkers = server.Checkers
            .Select(check => (probes.Create(check, server.Endpoint, CheckProxyHeaderOf(server)), TimingOf(check.Settings)))
            .ToList();
        return new RealServerMonitor(server, checkers, alpha, scripts, options);
    }

    /// <summary>Checks carry the PROXY header only with <c>check_send_proxy</c>; <c>send_proxy</c> alone concerns the
    /// forwarded connections.</summary>
    public static ProxyProtocolVersion CheckProxyHeaderOf(RealServer server)
    {
        ArgumentNullException.ThrowIfNull(server);
        return server.CheckSendProxy ? server.SendProxy : ProxyProtocolVersion.None;
    }

    /// <summary>keepalived's checker settings as the scheduler's timing.</summary>
    public static CheckTiming TimingOf(CheckSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return new CheckTiming(settings.DelayLoop, settings.ConnectTimeout, settings.Retry, settings.DelayBeforeRetry, settings.Warmup, settings.Rise);
    }

    /// <summary>Raised when the server goes up or down, after the status is updated.</summary>
    public event EventHandler<RealServerHealthChangedEventArgs>? HealthChanged;

    /// <summary>Raised when a <c>misc_dynamic</c> script changes the weight.</summary>
    public event EventHandler<RealServerWeightChangedEventArgs>? WeightChanged;

    /// <summary>The real server's configuration.</summary>
    public RealServer Server => _server;

    /// <summary>The real server's address.</summary>
    public IPEndPoint Endpoint => _server.Endpoint;

    /// <summary>The current status (a consistent snapshot).</summary>
    public RealServerHealthStatus Status
    {
        get
        {
            lock (_statusGate)
            {
                return _status;
            }
        }
    }

    /// <summary>Starts the checker loops (once).</summary>
    public void Start()
    {
        ObjectDisposedException.ThrowIf(_stopping.IsCancellationRequested, this);
        if (Interlocked.Exchange(ref _started, 1) != 0)
        {
            return;
        }

        CancellationToken token = _stopping.Token;
        Task[] loops = [.. _checkers.Select(c => Task.Run(() => c.RunAsync(r => _reports.Writer.TryWrite(r), token), token))];
        Task consumer = Task.Run(() => ConsumeAsync(token), token);
        _running = Task.WhenAll([.. loops, consumer]);
    }

    /// <summary>
    /// The forwarder failed to connect to this server: every checker probes now (at most once a second each) instead
    /// of at its next <c>delay_loop</c>, so a dead server is confirmed down within its retries rather than a full
    /// loop later. Safe from any thread; returns at once.
    /// </summary>
    public void CheckNow()
    {
        foreach (CheckerLoop checker in _checkers)
        {
            checker.Nudge();
        }
    }

    /// <summary>Stops every probe and script at once and waits for them to end.</summary>
    public async Task StopAsync()
    {
        if (Volatile.Read(ref _disposed) != 0 && _stopping.IsCancellationRequested)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        _reports.Writer.TryComplete();
        try
        {
            await _running.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // The loops end by cancellation.
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
        StopRamp(); // the consumer has ended: nothing else touches the ramp now
        _stopping.Dispose();
    }

    private async Task ConsumeAsync(CancellationToken cancellationToken)
    {
        await foreach (CheckerReport? report in _reports.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
        {
            if (report is null)
            {
                ApplyRampStep();
            }
            else
            {
                Apply(report, cancellationToken);
            }
        }
    }

    /// <summary>The weight published now: the checks' weight, lowered while a slowstart ramp runs.</summary>
    private int EffectiveWeight()
    {
        if (_rampStartedAt is not { } started || _server.SlowStart is not { } window)
        {
            return _targetWeight;
        }

        TimeSpan sinceUp = _timeProvider.GetElapsedTime(started);
        if (!SlowStartRamp.IsRamping(sinceUp, window))
        {
            StopRamp();
            return _targetWeight;
        }

        return SlowStartRamp.WeightAt(_targetWeight, sinceUp, window);
    }

    private void StartRamp(TimeSpan window)
    {
        StopRamp();
        _rampStartedAt = _timeProvider.GetTimestamp();
        TimeSpan step = SlowStartRamp.Step(window);
        _rampTimer = _timeProvider.CreateTimer(_ => _reports.Writer.TryWrite(null), null, step, step);
    }

    private void StopRamp()
    {
        _rampStartedAt = null;
        _rampTimer?.Dispose();
        _rampTimer = null;
    }

    private void ApplyRampStep()
    {
        if (_rampStartedAt is null)
        {
            return;
        }

        RealServerHealthStatus previous = Status;
        int weight = EffectiveWeight();
        if (weight == previous.Weight)
        {
            return;
        }

        RealServerHealthStatus status = previous with { Weight = weight };
        lock (_statusGate)
        {
            _status = status;
        }

        LogWeight(_logger, _server.Endpoint.ToString(), previous.Weight, weight, "slowstart");
        Raise(WeightChanged, new RealServerWeightChangedEventArgs(status, previous.Weight));
    }

    private void Apply(CheckerReport report, CancellationToken cancellationToken)
    {
        HealthTransition transition = _health.SetCheckerState(report.CheckerIndex, report.Decision.IsUp);
        RealServerHealthStatus previous = Status;
        _targetWeight = report.Result.DynamicWeight
            ?? (report.Result.WeightPercent is { } percent ? ScaledWeight(_server.Weight, percent) : _targetWeight);
        // slowstart: not at start-up (the first verdict of every checker), as HAProxy does not ramp at start.
        if (transition == HealthTransition.WentUp && _startupDone && _server.SlowStart is { } window)
        {
            StartRamp(window);
        }
        else if (transition == HealthTransition.WentDown)
        {
            StopRamp();
        }

        _reported[report.CheckerIndex] = true;
        _startupDone = _startupDone || Array.TrueForAll(_reported, r => r);
        int weight = EffectiveWeight();
        DateTimeOffset now = report.Status.LastCheckTime ?? _timeProvider.GetUtcNow();
        var checkers = previous.Checkers.ToArray();
        checkers[report.CheckerIndex] = report.Status;
        var status = new RealServerHealthStatus(_server.Endpoint, _health.IsUp, weight, report.Result, now,
            transition == HealthTransition.None ? previous.LastTransitionTime : now, checkers);
        lock (_statusGate)
        {
            _status = status;
        }

        string checker = _checkers[report.CheckerIndex].Description;
        // Coming up on a ramp: the forwarder learns the low weight before it schedules the server again.
        bool weightFirst = transition == HealthTransition.WentUp && weight != previous.Weight;
        if (weightFirst)
        {
            LogWeight(_logger, _server.Endpoint.ToString(), previous.Weight, weight, checker);
            Raise(WeightChanged, new RealServerWeightChangedEventArgs(status, previous.Weight));
        }

        if (transition != HealthTransition.None)
        {
            bool up = transition == HealthTransition.WentUp;
            LogTransition(_logger, _server.Endpoint.ToString(), up ? "UP" : "DOWN", checker, report.Result.ToString());
            Raise(HealthChanged, new RealServerHealthChangedEventArgs(status, transition, checker, report.Result));
            _notify.Launch(up ? _server.NotifyUp : _server.NotifyDown,
                $"{(up ? "notify_up" : "notify_down")} {_server.Endpoint}", cancellationToken);
        }

        if (weight != previous.Weight && !weightFirst)
        {
            LogWeight(_logger, _server.Endpoint.ToString(), previous.Weight, weight, checker);
            Raise(WeightChanged, new RealServerWeightChangedEventArgs(status, previous.Weight));
        }
    }

    /// <summary>The configured weight scaled by a check's percentage; a positive weight never rounds to 0 unless the
    /// check said 0 %.</summary>
    public static int ScaledWeight(int configured, int percent)
    {
        if (percent <= 0 || configured <= 0)
        {
            return 0;
        }

        return (int)Math.Max(1, Math.Round(configured * Math.Min(percent, 100) / 100.0, MidpointRounding.AwayFromZero));
    }

    private void Raise<T>(EventHandler<T>? handler, T args)
    {
        try
        {
            handler?.Invoke(this, args);
        }
#pragma warning disable CA1031 // A subscriber's bug must not stop the health checks of this server.
        catch (Exception e)
#pragma warning restore CA1031
        {
            LogHandlerFailed(_logger, _server.Endpoint.ToString(), e);
        }
    }

    [LoggerMessage(EventId = 410, Level = LogLevel.Warning, Message = "Real server {Endpoint} is {State} ({Checker}: {Result})")]
    private static partial void LogTransition(ILogger logger, string endpoint, string state, string checker, string result);

    [LoggerMessage(EventId = 411, Level = LogLevel.Error, Message = "An event handler for real server {Endpoint} failed")]
    private static partial void LogHandlerFailed(ILogger logger, string endpoint, Exception exception);

    [LoggerMessage(EventId = 412, Level = LogLevel.Information, Message = "Real server {Endpoint} weight {Previous} -> {Weight} (set by {Checker})")]
    private static partial void LogWeight(ILogger logger, string endpoint, int previous, int weight, string checker);
}
