using Microsoft.Extensions.Logging;
using VipProxy.Config.Model;
using VipProxy.HealthChecks.Scripts;

namespace VipProxy.HealthChecks.Monitoring;

/// <summary>
/// Runs notify_up/notify_down/quorum_up/quorum_down in the background (a slow script must not delay the next
/// check), logs how each ended, and lets the owner wait for or cancel the ones still running when it stops.
/// </summary>
internal sealed partial class NotifyScriptLauncher(ScriptRunner runner, TimeSpan timeout, ILogger logger)
{
    private readonly Lock _gate = new();
    private readonly HashSet<Task> _running = [];

    public void Launch(ScriptCommand? command, string why, CancellationToken cancellationToken)
    {
        if (command is null)
        {
            return;
        }

        Task run = RunAsync(command, why, cancellationToken);
        lock (_gate)
        {
            if (!run.IsCompleted)
            {
                _running.Add(run);
            }
        }

        _ = run.ContinueWith(
            finished =>
            {
                lock (_gate)
                {
                    _running.Remove(finished);
                }
            },
            CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    /// <summary>Waits for the scripts still running (cancel their token first to kill them).</summary>
    public Task WhenAllAsync()
    {
        lock (_gate)
        {
            return Task.WhenAll(_running);
        }
    }

    private async Task RunAsync(ScriptCommand command, string why, CancellationToken cancellationToken)
    {
        await Task.Yield();
        try
        {
            ScriptOutcome outcome = await runner.RunAsync(command, null, timeout, cancellationToken).ConfigureAwait(false);
            if (outcome.Succeeded)
            {
                LogRan(logger, why, outcome.Detail);
            }
            else
            {
                LogFailed(logger, why, outcome.Detail);
            }
        }
        catch (OperationCanceledException)
        {
            LogCancelled(logger, why, command.Text);
        }
    }

    [LoggerMessage(EventId = 430, Level = LogLevel.Information, Message = "{Why} script: {Detail}")]
    private static partial void LogRan(ILogger logger, string why, string detail);

    [LoggerMessage(EventId = 431, Level = LogLevel.Warning, Message = "{Why} script failed: {Detail}")]
    private static partial void LogFailed(ILogger logger, string why, string detail);

    [LoggerMessage(EventId = 432, Level = LogLevel.Information, Message = "{Why} script '{Command}' cancelled by shutdown")]
    private static partial void LogCancelled(ILogger logger, string why, string command);
}
