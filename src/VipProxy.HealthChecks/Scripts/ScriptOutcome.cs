namespace VipProxy.HealthChecks.Scripts;

/// <summary>How a script run ended.</summary>
public enum ScriptOutcomeKind
{
    /// <summary>It ran and exited; see <see cref="ScriptOutcome.ExitCode"/>.</summary>
    Exited,

    /// <summary>It ran past its time limit and was killed (with its children).</summary>
    TimedOut,

    /// <summary>It was not run: script security, or its user does not exist.</summary>
    Refused,

    /// <summary>It could not be started (not found, not executable…).</summary>
    FailedToStart,
}

/// <summary>The result of one script run.</summary>
/// <param name="Kind">How it ended.</param>
/// <param name="ExitCode">The exit code when it exited (128 + N when killed by signal N).</param>
/// <param name="Detail">A short explanation, with the last line the script printed, if any.</param>
public sealed record ScriptOutcome(ScriptOutcomeKind Kind, int? ExitCode, string Detail)
{
    /// <summary>True when the script exited with code 0.</summary>
    public bool Succeeded => Kind == ScriptOutcomeKind.Exited && ExitCode == 0;

    public override string ToString() => Detail;
}
