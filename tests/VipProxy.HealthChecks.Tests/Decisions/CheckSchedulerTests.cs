using Microsoft.Extensions.Time.Testing;
using VipProxy.HealthChecks.Decisions;

namespace VipProxy.HealthChecks.Tests.Decisions;

public class CheckSchedulerTests
{
    private readonly FakeTimeProvider _clock = new();

    [Fact]
    public void Warmup_is_within_zero_and_delay_loop_and_reproducible_per_seed()
    {
        CheckTiming timing = Timing(delayLoop: 60, connectTimeout: 5, retry: 1, delayBeforeRetry: 1, warmup: 60);
        var delays = new HashSet<TimeSpan>();
        for (int seed = 0; seed < 1000; seed++)
        {
            var scheduler = new CheckScheduler(timing, true, new Random(seed), _clock);
            Assert.InRange(scheduler.InitialDelay, TimeSpan.Zero, timing.DelayLoop - TimeSpan.FromTicks(1));
            Assert.Equal(scheduler.InitialDelay, new CheckScheduler(timing, true, new Random(seed), _clock).InitialDelay);
            delays.Add(scheduler.InitialDelay);
        }

        Assert.True(delays.Count > 990, "warmups should spread, not collide");
    }

    [Fact]
    public void First_probe_is_due_after_the_warmup()
    {
        var scheduler = new CheckScheduler(Timing(warmup: 10), true, new Random(7), _clock);
        Assert.Equal(scheduler.InitialDelay, scheduler.TimeUntilNextProbe());
        Assert.False(scheduler.IsProbeDue());
        _clock.Advance(scheduler.InitialDelay);
        Assert.True(scheduler.IsProbeDue());

        var noWarmup = new CheckScheduler(Timing(warmup: 0), true, new Random(7), _clock);
        Assert.Equal(TimeSpan.Zero, noWarmup.InitialDelay);
        Assert.True(noWarmup.IsProbeDue());
    }

    [Theory]
    [InlineData(0, 1)]
    [InlineData(1, 2)]
    [InlineData(2, 3)]
    [InlineData(5, 6)]
    public void Retry_n_marks_down_after_n_plus_one_consecutive_failures(int retry, int failuresToDown)
    {
        var scheduler = new CheckScheduler(Timing(retry: retry), true, new Random(1), _clock);
        for (int i = 1; i < failuresToDown; i++)
        {
            CheckDecision pending = scheduler.RecordResult(false);
            Assert.Equal(HealthTransition.None, pending.Transition);
            Assert.True(pending.IsUp);
            Assert.Equal(TimeSpan.FromSeconds(1), pending.NextProbeDelay); // delay_before_retry while unsettled
        }

        CheckDecision down = scheduler.RecordResult(false);
        Assert.Equal(HealthTransition.WentDown, down.Transition);
        Assert.False(down.IsUp);
        Assert.Equal(TimeSpan.FromSeconds(6), down.NextProbeDelay); // back to delay_loop once down

        Assert.Equal(HealthTransition.None, scheduler.RecordResult(false).Transition);
        CheckDecision up = scheduler.RecordResult(true);
        Assert.Equal(HealthTransition.WentUp, up.Transition); // keepalived: one good probe brings it back
        Assert.Equal(TimeSpan.FromSeconds(6), up.NextProbeDelay);
    }

    [Fact]
    public void A_good_probe_between_failures_restarts_the_retry_count()
    {
        var scheduler = new CheckScheduler(Timing(retry: 1), true, new Random(1), _clock);
        string transitions = string.Concat("FSFSFSF".Select(r => scheduler.RecordResult(r == 'S').Transition switch
        {
            HealthTransition.WentDown => 'D',
            HealthTransition.WentUp => 'U',
            _ => '.',
        }));
        Assert.Equal(".......", transitions);
    }

    [Fact]
    public void Alpha_starts_down_and_rise_above_one_probes_fast_while_rising()
    {
        var scheduler = new CheckScheduler(Timing(rise: 3), initialUp: false, new Random(1), _clock);
        Assert.False(scheduler.IsUp);
        Assert.Equal(TimeSpan.FromSeconds(1), scheduler.RecordResult(true).NextProbeDelay);
        Assert.Equal(TimeSpan.FromSeconds(1), scheduler.RecordResult(true).NextProbeDelay);
        CheckDecision up = scheduler.RecordResult(true);
        Assert.Equal(HealthTransition.WentUp, up.Transition);
        Assert.Equal(TimeSpan.FromSeconds(6), up.NextProbeDelay);
    }

    [Fact]
    public void Next_probe_is_scheduled_from_the_end_of_the_last_one()
    {
        var scheduler = new CheckScheduler(Timing(warmup: 0), true, new Random(1), _clock);
        _clock.Advance(TimeSpan.FromSeconds(2)); // the probe took 2 s
        scheduler.RecordResult(true);
        Assert.Equal(TimeSpan.FromSeconds(6), scheduler.TimeUntilNextProbe());
        _clock.Advance(TimeSpan.FromSeconds(5.5));
        Assert.Equal(TimeSpan.FromSeconds(0.5), scheduler.TimeUntilNextProbe());
        _clock.Advance(TimeSpan.FromSeconds(3));
        Assert.Equal(TimeSpan.Zero, scheduler.TimeUntilNextProbe()); // overdue reads as zero
    }

    [Theory]
    // delay_loop, connect_timeout, retry, delay_before_retry (seconds)
    [InlineData(2, 1, 1, 1)]
    [InlineData(3, 1, 2, 1)]
    [InlineData(5, 2, 3, 3)]
    [InlineData(60, 5, 1, 1)] // keepalived defaults
    public void A_dead_server_is_marked_down_within_the_documented_bound(int delayLoop, int connectTimeout, int retry, int delayBeforeRetry)
    {
        CheckTiming timing = Timing(delayLoop, connectTimeout, retry, delayBeforeRetry, warmup: delayLoop);
        TimeSpan issueBound = (timing.DelayLoop * (retry + 1)) + timing.ConnectTimeout;
        Assert.True(timing.WorstCaseDetectionTime <= issueBound);

        TimeSpan slowest = TimeSpan.Zero;
        TimeSpan step = timing.DelayLoop / 40;
        for (TimeSpan deathAfterWarmup = TimeSpan.FromTicks(1); deathAfterWarmup < timing.DelayLoop * 3; deathAfterWarmup += step)
        {
            TimeSpan detection = SimulateDetection(timing, deathAfterWarmup);
            Assert.True(detection <= timing.WorstCaseDetectionTime, $"death at +{deathAfterWarmup}: detected after {detection}");
            slowest = detection > slowest ? detection : slowest;
        }

        // The bound is tight: a death just after a good probe takes (almost) all of it.
        Assert.True(slowest >= timing.WorstCaseDetectionTime - step, $"slowest {slowest}");
    }

    [Fact]
    public void Rejects_invalid_timing()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Timing(delayLoop: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => Timing(connectTimeout: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => Timing(retry: -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => Timing(delayBeforeRetry: -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => Timing(warmup: -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => Timing(rise: 0));
    }

    /// <summary>
    /// Runs the checker loop on the fake clock against a server that dies <paramref name="deathAfterWarmup"/>
    /// after the first probe is due and then blackholes probes, so each failed probe lasts connect_timeout.
    /// Returns the time from death to WentDown.
    /// </summary>
    private TimeSpan SimulateDetection(CheckTiming timing, TimeSpan deathAfterWarmup)
    {
        var clock = new FakeTimeProvider();
        var scheduler = new CheckScheduler(timing, true, new Random(42), clock);
        DateTimeOffset deathAt = clock.GetUtcNow() + scheduler.InitialDelay + deathAfterWarmup;
        while (true)
        {
            clock.Advance(scheduler.TimeUntilNextProbe());
            bool alive = clock.GetUtcNow() < deathAt;
            if (!alive)
            {
                clock.Advance(timing.ConnectTimeout);
            }

            if (scheduler.RecordResult(alive).Transition == HealthTransition.WentDown)
            {
                return clock.GetUtcNow() - deathAt;
            }
        }
    }

    private static CheckTiming Timing(double delayLoop = 6, double connectTimeout = 2, int retry = 1, double delayBeforeRetry = 1, double warmup = 0, int rise = 1) =>
        new(TimeSpan.FromSeconds(delayLoop), TimeSpan.FromSeconds(connectTimeout), retry, TimeSpan.FromSeconds(delayBeforeRetry), TimeSpan.FromSeconds(warmup), rise);

    [Fact]
    public void Expedite_brings_the_next_probe_forward_but_not_closer_than_the_gap_to_the_last_one()
    {
        var scheduler = new CheckScheduler(Timing(delayLoop: 10, warmup: 0), true, new Random(1), _clock);
        scheduler.RecordResult(true);
        Assert.Equal(TimeSpan.FromSeconds(10), scheduler.TimeUntilNextProbe());

        // 0.4 s after the last probe: due at the gap (1 s after it), not now.
        _clock.Advance(TimeSpan.FromMilliseconds(400));
        scheduler.Expedite(TimeSpan.FromSeconds(1));
        Assert.Equal(TimeSpan.FromMilliseconds(600), scheduler.TimeUntilNextProbe());

        // Past the gap: due at once.
        _clock.Advance(TimeSpan.FromSeconds(2));
        scheduler.Expedite(TimeSpan.FromSeconds(1));
        Assert.True(scheduler.IsProbeDue());

        // Never later than already planned.
        scheduler.RecordResult(false);
        TimeSpan retry = scheduler.TimeUntilNextProbe();
        scheduler.Expedite(TimeSpan.FromSeconds(5));
        Assert.Equal(retry, scheduler.TimeUntilNextProbe());
    }
}
