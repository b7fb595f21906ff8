namespace VipProxy.HealthChecks.Decisions;

/// <summary>What a probe result decided.</summary>
/// <param name="Transition">Whether the checker's state changed.</param>
/// <param name="IsUp">The checker's state after the result.</param>
/// <param name="NextProbeDelay">How long to wait, from now, before the next probe.</param>
/// <param name="Health">The hysteresis counter after the result (for status output).</param>
public readonly record struct CheckDecision(HealthTransition Transition, bool IsUp, TimeSpan NextProbeDelay, int Health);
