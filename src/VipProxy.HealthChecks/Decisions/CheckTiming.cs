namespace VipProxy.HealthChecks.Decisions;

/// <summary>
/// When a checker probes, in keepalived's terms.
/// </summary>
/// <remarks>
/// keepalived's <c>retry N</c> marks a server down after N + 1 consecutive failed probes, spaced by
/// <c>delay_before_retry</c>; a single good probe brings a down server back, i.e. rise 1, fall N + 1. Defaults in
/// keepalived: delay_loop 60 s, connect_timeout 5 s, retry 1 (MISC_CHECK 0), delay_before_retry 1 s, warmup up to
/// delay_loop.
/// </remarks>
public sealed record CheckTiming
{
    /// <summary>Validates and creates the timing.</summary>
    public CheckTiming(TimeSpan delayLoop, TimeSpan connectTimeout, int retry, TimeSpan delayBeforeRetry, TimeSpan warmup, int rise = 1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(delayLoop, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(connectTimeout, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfNegative(retry);
        ArgumentOutOfRangeException.ThrowIfLessThan(delayBeforeRetry, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(warmup, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(rise, 1);
        DelayLoop = delayLoop;
        ConnectTimeout = connectTimeout;
        Retry = retry;
        DelayBeforeRetry = delayBeforeRetry;
        Warmup = warmup;
        Rise = rise;
    }

    /// <summary>Interval between probes while the state is settled.</summary>
    public TimeSpan DelayLoop { get; }

    /// <summary>Longest a probe may take (enforced by the probe, used here for the detection bound).</summary>
    public TimeSpan ConnectTimeout { get; }

    /// <summary>Extra failed probes tolerated before marking down.</summary>
    public int Retry { get; }

    /// <summary>Interval between probes after a failure, until the state settles.</summary>
    public TimeSpan DelayBeforeRetry { get; }

    /// <summary>The first probe waits a random time in <c>[0, Warmup)</c>, spreading checkers that start together;
    /// zero probes at once.</summary>
    public TimeSpan Warmup { get; }

    /// <summary>Consecutive good probes that bring a down server up (keepalived has no such knob: 1).</summary>
    public int Rise { get; }

    /// <summary>Consecutive failed probes that bring an up server down: <c>retry + 1</c>.</summary>
    public int Fall => Retry + 1;

    /// <summary>
    /// Longest time from a server's death to it being marked down, when it died just after a good probe and every
    /// failed probe runs into the connect timeout:
    /// <c>delay_loop + connect_timeout + retry × (delay_before_retry + connect_timeout)</c>.
    /// </summary>
    /// <remarks>This is within <c>delay_loop × (retry + 1) + connect_timeout</c> whenever
    /// <c>delay_before_retry + connect_timeout ≤ delay_loop</c>.</remarks>
    public TimeSpan WorstCaseDetectionTime => DelayLoop + ConnectTimeout + (Retry * (DelayBeforeRetry + ConnectTimeout));
}
