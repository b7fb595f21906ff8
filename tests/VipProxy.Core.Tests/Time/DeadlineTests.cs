using Microsoft.Extensions.Time.Testing;
using VipProxy.Core.Time;

namespace VipProxy.Core.Tests.Time;

public class DeadlineTests
{
    private readonly FakeTimeProvider _clock = new();

    [Fact]
    public void A_deadline_passes_exactly_when_its_delay_has_elapsed()
    {
        Deadline deadline = Deadline.After(_clock, TimeSpan.FromSeconds(3));

        Assert.False(deadline.IsPassed(_clock));
        Assert.Equal(TimeSpan.FromSeconds(3), deadline.Remaining(_clock));

        _clock.Advance(TimeSpan.FromSeconds(3) - TimeSpan.FromTicks(1));
        Assert.False(deadline.IsPassed(_clock));
        Assert.Equal(TimeSpan.FromTicks(1), deadline.Remaining(_clock));

        _clock.Advance(TimeSpan.FromTicks(1));
        Assert.True(deadline.IsPassed(_clock));
        Assert.Equal(TimeSpan.Zero, deadline.Remaining(_clock));
    }

    [Fact]
    public void Remaining_is_never_negative_once_passed()
    {
        Deadline deadline = Deadline.After(_clock, TimeSpan.FromMilliseconds(10));
        _clock.Advance(TimeSpan.FromMinutes(5));

        Assert.True(deadline.IsPassed(_clock));
        Assert.Equal(TimeSpan.Zero, deadline.Remaining(_clock));
    }

    [Fact]
    public void Pure_code_decides_against_one_now_reading()
    {
        Deadline now = Deadline.Now(_clock);
        Deadline due = now.Plus(TimeSpan.FromSeconds(1));

        _clock.Advance(TimeSpan.FromSeconds(2));

        // The reading taken before the clock moved still says "not yet": decisions never read the clock themselves.
        Assert.False(due.IsPassed(now));
        Assert.Equal(TimeSpan.FromSeconds(1), due.Remaining(now));
        Assert.True(due.IsPassed(Deadline.Now(_clock)));
    }

    [Fact]
    public void A_wall_clock_step_does_not_move_a_deadline()
    {
        var clock = new NanosecondClock { Timestamp = 1_000_000_000, UtcNow = new DateTimeOffset(2030, 1, 1, 0, 0, 0, TimeSpan.Zero) };
        Deadline deadline = Deadline.After(clock, TimeSpan.FromSeconds(10));

        clock.UtcNow -= TimeSpan.FromHours(1);
        clock.Timestamp += 10_000_000_000;
        Assert.True(deadline.IsPassed(clock));

        Deadline next = Deadline.After(clock, TimeSpan.FromSeconds(10));
        clock.UtcNow += TimeSpan.FromDays(1);
        Assert.False(next.IsPassed(clock));
        Assert.Equal(TimeSpan.FromSeconds(10), next.Remaining(clock));
    }

    [Fact]
    public void The_same_instant_gives_equal_deadlines_so_a_timer_event_matches_the_armed_one()
    {
        Deadline armed = Deadline.After(_clock, TimeSpan.FromSeconds(1));
        Deadline carried = Deadline.Now(_clock).Plus(TimeSpan.FromSeconds(1));

        Assert.Equal(armed, carried);
        Assert.True(armed == carried);
        Assert.Equal(0, armed.CompareTo(carried));
    }

    [Fact]
    public void Deadlines_order_by_instant()
    {
        Deadline early = Deadline.After(_clock, TimeSpan.FromSeconds(1));
        Deadline late = Deadline.After(_clock, TimeSpan.FromSeconds(2));

        Assert.True(early < late);
        Assert.True(late > early);
        Assert.True(early <= early.Plus(TimeSpan.Zero));
        Assert.True(late >= early);
        Assert.Equal(early, Deadline.Min(early, late));
        Assert.Equal(late, Deadline.Max(early, late));
        Assert.True(early.CompareTo(late) < 0);
    }

    [Fact]
    public void Timestamps_of_a_nanosecond_clock_convert_exactly_even_when_large()
    {
        // Linux's Stopwatch counts nanoseconds; about 114 days of uptime here. Conversion is in integers, so the
        // deadline lands on the exact 100 ns tick and passes on the nanosecond it is due, not a tick early or late.
        var clock = new NanosecondClock { Timestamp = 9_876_543_210_987_600 };
        Deadline now = Deadline.Now(clock);

        Assert.Equal(TimeSpan.FromTicks(98_765_432_109_876), now.SinceClockStart);

        Deadline due = now.Plus(TimeSpan.FromMilliseconds(1));
        clock.Timestamp += 999_999;
        Assert.False(due.IsPassed(clock));
        Assert.Equal(TimeSpan.FromTicks(1), due.Remaining(clock));
        clock.Timestamp += 1;
        Assert.True(due.IsPassed(clock));
    }

    [Fact]
    public void Never_never_passes_and_absorbs_any_delay()
    {
        _clock.Advance(TimeSpan.FromDays(10_000));

        Assert.False(Deadline.Never.IsPassed(_clock));
        Assert.Equal(Deadline.Never, Deadline.Never.Plus(TimeSpan.MaxValue));
        Assert.Equal(Deadline.Never, Deadline.After(_clock, TimeSpan.MaxValue));
        Assert.Equal("never", Deadline.Never.ToString());
    }

    [Fact]
    public void A_negative_delay_is_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Deadline.After(_clock, Timeout.InfiniteTimeSpan));
        Assert.Throws<ArgumentOutOfRangeException>(() => Deadline.Now(_clock).Plus(TimeSpan.FromTicks(-1)));
    }

    [Fact]
    public void A_zero_delay_is_due_at_once()
    {
        Assert.True(Deadline.After(_clock, TimeSpan.Zero).IsPassed(_clock));
    }

    private sealed class NanosecondClock : TimeProvider
    {
        public long Timestamp { get; set; }

        public override long TimestampFrequency => 1_000_000_000;

        public DateTimeOffset UtcNow { get; set; }

        public override long GetTimestamp() => Timestamp;

        public override DateTimeOffset GetUtcNow() => UtcNow;
    }
}
