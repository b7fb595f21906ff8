namespace VipProxy.HealthChecks.Decisions;

/// <summary>
/// The pure timing and state logic of one checker of one real server: when to probe next, and what each result
/// changes. The caller runs the probes; nothing here touches the network or sleeps.
/// </summary>
/// <remarks>
/// Like keepalived, the next probe is scheduled from the end of the previous one: <c>delay_loop</c> while the
/// state is settled, <c>delay_before_retry</c> while results disagree with the state (an up server that failed
/// fewer than retry + 1 times, or a down server rising with rise &gt; 1). Not thread-safe: one checker loop
/// drives it.
/// </remarks>
public sealed class CheckScheduler
{
    private readonly TimeProvider _timeProvider;
    private readonly HealthCounter _counter;
    private long _nextProbeTimestamp;
    private long _lastProbeEndTimestamp;

    /// <summary>Creates the scheduler; the first probe is due after a random warmup.</summary>
    /// <param name="timing">keepalived timing.</param>
    /// <param name="initialUp">True as keepalived does without <c>alpha</c>; false with <c>alpha</c>.</param>
    /// <param name="random">Source of the warmup delay; inject a seeded instance in tests.</param>
    /// <param name="timeProvider">Clock.</param>
    public CheckScheduler(CheckTiming timing, bool initialUp, Random random, TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(timing);
        ArgumentNullException.ThrowIfNull(random);
        ArgumentNullException.ThrowIfNull(timeProvider);
        Timing = timing;
        _timeProvider = timeProvider;
        _counter = new HealthCounter(timing.Rise, timing.Fall, initialUp);
        InitialDelay = timing.Warmup > TimeSpan.Zero
            ? TimeSpan.FromTicks(random.NextInt64(timing.Warmup.Ticks))
            : TimeSpan.Zero;
        _lastProbeEndTimestamp = timeProvider.GetTimestamp();
        _nextProbeTimestamp = After(_lastProbeEndTimestamp, InitialDelay);
    }

    /// <summary>The timing in use.</summary>
    public CheckTiming Timing { get; }

    /// <summary>The random warmup before the first probe, in <c>[0, warmup)</c>.</summary>
    public TimeSpan InitialDelay { get; }

    /// <summary>The checker's current state.</summary>
    public bool IsUp => _counter.IsUp;

    /// <summary>The hysteresis counter value.</summary>
    public int Health => _counter.Health;

    /// <summary>Time left until the next probe is due (zero when due or overdue).</summary>
    public TimeSpan TimeUntilNextProbe()
    {
        TimeSpan left = _timeProvider.GetElapsedTime(_timeProvider.GetTimestamp(), _nextProbeTimestamp);
        return left > TimeSpan.Zero ? left : TimeSpan.Zero;
    }

    /// <summary>True when the next probe should start now.</summary>
    public bool IsProbeDue() => TimeUntilNextProbe() == TimeSpan.Zero;

    /// <summary>Applies the result of a probe that has just finished and schedules the next one.</summary>
    public CheckDecision RecordResult(bool success)
    {
        HealthTransition transition = _counter.Record(success);
        TimeSpan delay = _counter.IsSettled ? Timing.DelayLoop : Timing.DelayBeforeRetry;
        _lastProbeEndTimestamp = _timeProvider.GetTimestamp();
        _nextProbeTimestamp = After(_lastProbeEndTimestamp, delay);
        return new CheckDecision(transition, _counter.IsUp, delay, _counter.Health);
    }

    /// <summary>
    /// Brings the next probe forward because the forwarder's own connect to the server just failed (HAProxy's
    /// <c>observe layer4</c> with <c>on-error fastinter</c>): it runs now, but never sooner than
    /// <paramref name="minimumGap"/> after the previous probe ended, so a burst of failed connects costs at most one
    /// extra probe per gap. The result then counts like any other: retry and rise/fall still decide.
    /// </summary>
    public void Expedite(TimeSpan minimumGap)
    {
        long earliest = Math.Max(_timeProvider.GetTimestamp(), After(_lastProbeEndTimestamp, minimumGap));
        if (earliest < _nextProbeTimestamp)
        {
            _nextProbeTimestamp = earliest;
        }
    }

    private long After(long timestamp, TimeSpan delay) =>
        timestamp + (long)((Int128)delay.Ticks * _timeProvider.TimestampFrequency / TimeSpan.TicksPerSecond);
}
