using System.Globalization;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using VipProxy.Config.Model;
using VipProxy.Vrrp.Protocol;

namespace VipProxy.Vrrp.Runtime;

/// <summary>
/// One instance's notify scripts: <c>notify_master|backup|fault|stop</c> (no arguments) then <c>notify</c> with
/// keepalived's four arguments <c>"INSTANCE" NAME STATE PRIORITY</c>. Runs asynchronously, so a slow script never
/// delays an advert, but strictly in order, one at a time, each with a timeout (keepalived runs them in order too).
/// </summary>
internal sealed partial class NotifyRunner : IAsyncDisposable
{
    /// <summary>How long one notify script may run before it is killed.</summary>
    public static readonly TimeSpan ScriptTimeout = TimeSpan.FromSeconds(10);

    private readonly string _instanceName;
    private readonly NotifyScripts _scripts;
    private readonly ScriptAccount? _user;
    private readonly IScriptRunner _runner;
    private readonly ILogger _logger;
    private readonly Channel<(NotifyState State, byte Priority)> _queue =
        Channel.CreateUnbounded<(NotifyState, byte)>(new UnboundedChannelOptions { SingleReader = true });
    private readonly CancellationTokenSource _abort = new();
    private readonly Task _loop;

    public NotifyRunner(string instanceName, NotifyScripts scripts, ScriptAccount? user, IScriptRunner runner, ILogger logger)
    {
        _instanceName = instanceName;
        _scripts = scripts;
        _user = user;
        _runner = runner;
        _logger = logger;
        _loop = Task.Run(RunAsync);
    }

    /// <summary>The invocations for one transition, in the order they run.</summary>
    public static IReadOnlyList<ScriptInvocation> InvocationsFor(NotifyScripts scripts, string instanceName, NotifyState state, byte priority, ScriptAccount? user)
    {
        ArgumentNullException.ThrowIfNull(scripts);
        var list = new List<ScriptInvocation>();
        var specific = state switch
        {
            NotifyState.Master => scripts.Master,
            NotifyState.Backup => scripts.Backup,
            NotifyState.Fault => scripts.Fault,
            _ => scripts.Stop,
        };
        if (specific is not null)
        {
            list.Add(new ScriptInvocation([.. specific.Arguments], user, ScriptTimeout));
        }

        if (scripts.Any is not null)
        {
            list.Add(new ScriptInvocation(
                [.. scripts.Any.Arguments, "INSTANCE", instanceName, StateWords.Of(state), priority.ToString(CultureInfo.InvariantCulture)],
                user,
                ScriptTimeout));
        }

        return list;
    }

    /// <summary>Queues the scripts for a transition; returns at once.</summary>
    public void Enqueue(NotifyState state, byte priority) => _queue.Writer.TryWrite((state, priority));

    /// <summary>Waits until every queued script has run (bounded by <paramref name="cancellationToken"/>), then stops.</summary>
    public async Task DrainAsync(CancellationToken cancellationToken)
    {
        _queue.Writer.TryComplete();
        try
        {
            await _loop.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            await _abort.CancelAsync().ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _abort.CancelAsync().ConfigureAwait(false);
        try
        {
            await _loop.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Aborted.
        }

        _abort.Dispose();
    }

    private async Task RunAsync()
    {
        await foreach (var (state, priority) in _queue.Reader.ReadAllAsync(_abort.Token).ConfigureAwait(false))
        {
            foreach (var invocation in InvocationsFor(_scripts, _instanceName, state, priority, _user))
            {
                try
                {
                    var outcome = await _runner.RunAsync(invocation, _abort.Token).ConfigureAwait(false);
                    LogNotified(_logger, _instanceName, StateWords.Of(state), invocation.ToString(), outcome);
                }
#pragma warning disable CA1031 // A failing notify script must not stop the ones queued after it.
                catch (Exception e) when (e is not OperationCanceledException)
#pragma warning restore CA1031
                {
                    LogNotifyError(_logger, e, _instanceName, invocation.ToString());
                }
            }
        }
    }

    [LoggerMessage(EventId = 740, Level = LogLevel.Information, Message = "({Instance}) notify {State}: '{Script}' {Outcome}")]
    private static partial void LogNotified(ILogger logger, string instance, string state, string script, VrrpScriptResult outcome);

    [LoggerMessage(EventId = 741, Level = LogLevel.Warning, Message = "({Instance}) notify script '{Script}' failed")]
    private static partial void LogNotifyError(ILogger logger, Exception exception, string instance, string script);
}
