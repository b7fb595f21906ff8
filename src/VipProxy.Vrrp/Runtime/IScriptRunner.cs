using VipProxy.Config.Model;

namespace VipProxy.Vrrp.Runtime;

/// <summary>Runs <c>vrrp_script</c> checks and notify scripts. The daemon gives the VRRP side the same runner as
/// the health checks (VipProxy.Host.VrrpScriptRunner): keepalived's accounts and script security, no shell.</summary>
public interface IScriptRunner
{
    /// <summary>Runs one script to completion or until <see cref="ScriptInvocation.Timeout"/>.</summary>
    Task<VrrpScriptResult> RunAsync(ScriptInvocation invocation, CancellationToken cancellationToken);
}

/// <summary>
/// One run: the program and its arguments (never a shell line), the account, the time allowed. A null
/// <paramref name="User"/> (no <c>user</c> and no <c>script_user</c>) leaves the account to the runner, which
/// resolves keepalived's default (keepalived_script when getpwnam finds it, else root).
/// </summary>
public sealed record ScriptInvocation(IReadOnlyList<string> Arguments, ScriptAccount? User, TimeSpan Timeout)
{
    /// <inheritdoc/>
    public override string ToString() => string.Join(' ', Arguments);
}

/// <summary>How a script run ended.</summary>
public enum VrrpScriptResult
{
    /// <summary>Exit status 0.</summary>
    Succeeded,

    /// <summary>A non-zero exit status.</summary>
    Failed,

    /// <summary>Killed after its timeout: counts as a failure.</summary>
    TimedOut,

    /// <summary>Could not be started (missing program, permissions): counts as a failure.</summary>
    NotStarted,
}
