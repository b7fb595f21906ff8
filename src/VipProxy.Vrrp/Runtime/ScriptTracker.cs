using Microsoft.Extensions.Logging;
using VipProxy.Config.Model;

namespace VipProxy.Vrrp.Runtime;

/// <summary>
/// One <c>vrrp_script</c>, run every <c>interval</c> (with <c>timeout</c>) and shared by every instance tracking it,
/// as keepalived does. Its rise/fall verdict goes to each subscriber whenever it changes.
/// </summary>
internal sealed partial class ScriptTracker : IAsyncDisposable
{
    private readonly VrrpScript _script;
    private readonly ScriptAccount? _user;
    private readonly IScriptRunner _runner;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly ScriptHysteresis _hysteresis;
    private readonly Lock _gate = new();
    private readonly List<Action<bool>> _subscribers = [];
    private readonly CancellationTokenSource _stop = new();
    private Task? _loop;

    public ScriptTracker(VrrpScript script, ScriptAccount? user, IScriptRunner runner, TimeProvider timeProvider, ILogger logger)
    {
        _script = script;
        _user = user;
        _runner = runner;
        _timeProvider = timeProvider;
        _logger = logger;
        _hysteresis = new ScriptHysteresis(script.Rise, script.Fall, script.InitFail);
    }

    public VrrpScript Script => _script;

    public bool IsUp
    {
        get
        {
            lock (_gate)
            {
                return _hysteresis.IsUp;
            }
        }
    }

    public int SubscriberCount
    {
        get
        {
            lock (_gate)
            {
                return _subscribers.Count;
            }
        }
    }

    /// <summary>Adds a subscriber and returns the current verdict for its initial report.</summary>
    public bool Subscribe(Action<bool> onChange)
    {
        lock (_gate)
        {
            _subscribers.Add(onChange);
            return _hysteresis.IsUp;
        }
    }

    public void Unsubscribe(Action<bool> onChange)
    {
        lock (_gate)
        {
            _subscribers.Remove(onChange);
        }
    }

    public void Start() => _loop ??= Task.Run(RunAsync);

    /// <summary>Feeds one result (the loop calls this; tests may too).</summary>
    internal void Record(bool success)
    {
        Action<bool>[] notify;
        bool up;
        lock (_gate)
        {
            if (!_hysteresis.Record(success))
            {
                return;
            }

            up = _hysteresis.IsUp;
            notify = [.. _subscribers];
        }

        LogChanged(_logger, _script.Name, up ? "up" : "down");
        foreach (var subscriber in notify)
        {
            subscriber(up);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        if (_loop is not null)
        {
            try
            {
                await _loop.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // Stopped.
            }
        }

        _stop.Dispose();
    }

    private async Task RunAsync()
    {
        var token = _stop.Token;
        var timeout = _script.Timeout > TimeSpan.Zero ? _script.Timeout : _script.Interval;
        var invocation = new ScriptInvocation([.. _script.Script.Arguments], _user, timeout);
        while (!token.IsCancellationRequested)
        {
            var started = _timeProvider.GetTimestamp();
            VrrpScriptResult outcome;
            try
            {
                outcome = await _runner.RunAsync(invocation, token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
#pragma warning disable CA1031 // A broken runner counts as a failed check; the loop must go on.
            catch (Exception e)
#pragma warning restore CA1031
            {
                LogRunError(_logger, e, _script.Name);
                outcome = VrrpScriptResult.NotStarted;
            }

            Record(outcome == VrrpScriptResult.Succeeded);

            // keepalived schedules the next run `interval` after the previous one started.
            var wait = _script.Interval - _timeProvider.GetElapsedTime(started);
            await Task.Delay(wait > TimeSpan.Zero ? wait : TimeSpan.Zero, _timeProvider, token).ConfigureAwait(false);
        }
    }

    [LoggerMessage(EventId = 730, Level = LogLevel.Information, Message = "VRRP script {Script} is now {State}")]
    private static partial void LogChanged(ILogger logger, string script, string state);

    [LoggerMessage(EventId = 731, Level = LogLevel.Warning, Message = "VRRP script {Script} could not run")]
    private static partial void LogRunError(ILogger logger, Exception exception, string script);
}
