using VipProxy.Config.Model;
using VipProxy.HealthChecks.Scripts;

namespace VipProxy.HealthChecks.Probes;

/// <summary>
/// <c>MISC_CHECK</c>: runs <c>misc_path</c> (as <c>user</c>, else <c>script_user</c>) with <c>misc_timeout</c>;
/// exit 0 is up. With <c>misc_dynamic</c>, as in keepalived: 0 is up, 1 is down, and 2–255 is up with the real
/// server's weight set to code − 2. A script that times out is killed and counts as down.
/// </summary>
public sealed class MiscProbe : IHealthProbe
{
    private readonly MiscCheck _check;
    private readonly ScriptRunner _runner;

    /// <summary>Creates the probe.</summary>
    public MiscProbe(MiscCheck check, ScriptRunner runner)
    {
        ArgumentNullException.ThrowIfNull(check);
        ArgumentNullException.ThrowIfNull(runner);
        _check = check;
        _runner = runner;
    }

    /// <inheritdoc/>
    public string Description => $"MISC_CHECK {_check.Path.Text}";

    /// <inheritdoc/>
    public async Task<ProbeResult> ProbeAsync(CancellationToken cancellationToken)
    {
        ScriptOutcome outcome = await _runner.RunAsync(_check.Path, _check.User, _check.MiscTimeout, cancellationToken)
            .ConfigureAwait(false);
        return Judge(outcome, _check.Dynamic);
    }

    /// <summary>Maps a script outcome to a probe result (pure; exposed for tests).</summary>
    public static ProbeResult Judge(ScriptOutcome outcome, bool dynamic)
    {
        ArgumentNullException.ThrowIfNull(outcome);
        if (outcome.Kind != ScriptOutcomeKind.Exited || outcome.ExitCode is not int code)
        {
            return ProbeResult.Down(outcome.Detail, outcome.ExitCode);
        }

        return (code, dynamic) switch
        {
            (0, _) => ProbeResult.Up(outcome.Detail),
            (code: >= 2 and <= 255, dynamic: true) => ProbeResult.Up(outcome.Detail, dynamicWeight: code - 2),
            _ => ProbeResult.Down(outcome.Detail, code),
        };
    }
}
