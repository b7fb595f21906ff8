namespace VipProxy.Core.Time;

/// <summary>
/// An instant on a <see cref="TimeProvider"/>'s monotonic clock (<see cref="TimeProvider.GetTimestamp"/>), kept in
/// 100 ns ticks: when a timer is due, when a probe runs next, until when a preempt delay holds.
/// </summary>
/// <remarks>
/// <para>
/// Monotonic, not wall-clock time: an NTP step neither fires nor stalls anything timed by it. Timestamps are
/// converted to ticks in integers (<see cref="TimeProvider.GetElapsedTime(long, long)"/> goes through a double
/// and loses ticks on large timestamps), so the same timestamp always gives the same deadline and two deadlines
/// compare exactly: a timer event can carry the deadline it was armed for and be matched against the one still
/// armed.
/// </para>
/// <para>
/// Pure code takes "now" as an input (<see cref="Now"/> read once per event by its driver) and decides with
/// <see cref="IsPassed(Deadline)"/> and <see cref="Remaining(Deadline)"/>; a driver arms a real timer for
/// <see cref="Remaining(TimeProvider)"/>. Deadlines from different providers do not compare.
/// </para>
/// </remarks>
public readonly record struct Deadline : IComparable<Deadline>
{
    private readonly long _ticks;

    private Deadline(long ticks) => _ticks = ticks;

    /// <summary>A deadline that never passes (the end of the clock); adding to it stays there.</summary>
    public static Deadline Never { get; } = new(long.MaxValue);

    /// <summary>The instant as a reading of the monotonic clock: the time since the clock's (arbitrary) zero.</summary>
    public TimeSpan SinceClockStart => new(_ticks);

    /// <summary>The provider's current instant.</summary>
    public static Deadline Now(TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(timeProvider);
        return FromTimestamp(timeProvider.GetTimestamp(), timeProvider.TimestampFrequency);
    }

    /// <summary><paramref name="delay"/> from the provider's current instant.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="delay"/> is negative (such as
    /// <see cref="Timeout.InfiniteTimeSpan"/>: use <see cref="Never"/> for "no deadline").</exception>
    public static Deadline After(TimeProvider timeProvider, TimeSpan delay) => Now(timeProvider).Plus(delay);

    /// <summary>The instant of a raw <see cref="TimeProvider.GetTimestamp"/> reading taken with
    /// <paramref name="frequency"/> (<see cref="TimeProvider.TimestampFrequency"/>).</summary>
    public static Deadline FromTimestamp(long timestamp, long frequency)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(frequency);
        return new(frequency == TimeSpan.TicksPerSecond
            ? timestamp
            : (long)((Int128)timestamp * TimeSpan.TicksPerSecond / frequency));
    }

    /// <summary>The instant <paramref name="delay"/> later; saturates at <see cref="Never"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="delay"/> is negative.</exception>
    public Deadline Plus(TimeSpan delay)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(delay, TimeSpan.Zero);
        return new(delay.Ticks > long.MaxValue - _ticks ? long.MaxValue : _ticks + delay.Ticks);
    }

    /// <summary>True once <paramref name="now"/> has reached this deadline (a deadline is passed at its own instant).</summary>
    public bool IsPassed(Deadline now) => now._ticks >= _ticks;

    /// <summary>True once the provider's clock has reached this deadline.</summary>
    public bool IsPassed(TimeProvider timeProvider) => IsPassed(Now(timeProvider));

    /// <summary>Time left from <paramref name="now"/> until this deadline; zero once it has passed, never negative.</summary>
    public TimeSpan Remaining(Deadline now) => now._ticks >= _ticks ? TimeSpan.Zero : new TimeSpan(_ticks - now._ticks);

    /// <summary>Time left on the provider's clock until this deadline; zero once it has passed.</summary>
    public TimeSpan Remaining(TimeProvider timeProvider) => Remaining(Now(timeProvider));

    /// <summary>The earlier of two deadlines.</summary>
    public static Deadline Min(Deadline left, Deadline right) => left._ticks <= right._ticks ? left : right;

    /// <summary>The later of two deadlines.</summary>
    public static Deadline Max(Deadline left, Deadline right) => left._ticks >= right._ticks ? left : right;

    /// <inheritdoc/>
    public int CompareTo(Deadline other) => _ticks.CompareTo(other._ticks);

    /// <summary>True when <paramref name="left"/> comes before <paramref name="right"/>.</summary>
    public static bool operator <(Deadline left, Deadline right) => left._ticks < right._ticks;

    /// <summary>True when <paramref name="left"/> comes after <paramref name="right"/>.</summary>
    public static bool operator >(Deadline left, Deadline right) => left._ticks > right._ticks;

    /// <summary>True when <paramref name="left"/> is not after <paramref name="right"/>.</summary>
    public static bool operator <=(Deadline left, Deadline right) => left._ticks <= right._ticks;

    /// <summary>True when <paramref name="left"/> is not before <paramref name="right"/>.</summary>
    public static bool operator >=(Deadline left, Deadline right) => left._ticks >= right._ticks;

    /// <inheritdoc/>
    public override string ToString() => _ticks == long.MaxValue ? "never" : $"{SinceClockStart} on the monotonic clock";
}
