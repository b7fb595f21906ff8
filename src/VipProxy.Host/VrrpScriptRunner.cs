using Microsoft.Extensions.Logging;
using VipProxy.Config.Model;
using VipProxy.HealthChecks.Scripts;
using VipProxy.Vrrp.Runtime;

namespace VipProxy.Host;

/// <summary>
/// Runs the VRRP side's scripts (<c>vrrp_script</c> checks and <c>notify*</c>) through the same
/// <see cref="ScriptRunner"/> as MISC_CHECK and the real servers' notify scripts, so every script of the daemon gets
/// keepalived's rules: <c>user</c>, else <c>script_user</c>, else keepalived_script or root; no shell; and with
/// <c>enable_script_security</c> a script that a non-root user could modify is refused, never run as root.
/// </summary>
internal sealed partial class VrrpScriptRunner : IScriptRunner
{
    private readonly ILogger _logger;
    private readonly TimeProvider _timeProvider;
    private ScriptRunner _runner;

    public VrrpScriptRunner(GlobalDefinitions global, ILogger logger, TimeProvider timeProvider)
    {
        _logger = logger;
        _timeProvider = timeProvider;
        _runner = new ScriptRunner(ScriptSettings.From(global), logger, timeProvider);
    }

    /// <summary>A reload changed <c>script_user</c> or <c>enable_script_security</c>: later runs follow the new file.</summary>
    public void Use(GlobalDefinitions global) =>
        Volatile.Write(ref _runner, new ScriptRunner(ScriptSettings.From(global), _logger, _timeProvider));

    public async Task<VrrpScriptResult> RunAsync(ScriptInvocation invocation, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(invocation);
        var command = new ScriptCommand(invocation.ToString(), ValueList.From(invocation.Arguments));
        // The VRRP side means "no limit" by a zero timeout; the runner wants a real one.
        TimeSpan timeout = invocation.Timeout > TimeSpan.Zero ? invocation.Timeout : Timeout.InfiniteTimeSpan;
        ScriptOutcome outcome = await Volatile.Read(ref _runner)
            .RunAsync(command, invocation.User, timeout, cancellationToken).ConfigureAwait(false);
        switch (outcome.Kind)
        {
            case ScriptOutcomeKind.Exited:
                return outcome.ExitCode == 0 ? VrrpScriptResult.Succeeded : VrrpScriptResult.Failed;
            case ScriptOutcomeKind.TimedOut:
                LogNotCompleted(_logger, command.Text, outcome.Detail);
                return VrrpScriptResult.TimedOut;
            default:
                LogNotCompleted(_logger, command.Text, outcome.Detail);
                return VrrpScriptResult.NotStarted;
        }
    }

    [LoggerMessage(EventId = 310, Level = LogLevel.Warning, Message = "VRRP script '{Script}' did not complete: {Detail}")]
    private static partial void LogNotCompleted(ILogger logger, string script, string detail);
}
