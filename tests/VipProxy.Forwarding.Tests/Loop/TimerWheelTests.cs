using VipProxy.Forwarding.Loop;

namespace VipProxy.Forwarding.Tests.Loop;

/// <summary>The per-loop timer wheel, pure: timers fire at their due tick, never early, whatever the jumps.</summary>
public class TimerWheelTests
{
    private sealed class Recorder : ILoopTimerTarget
    {
        public List<(LoopTimer Timer, long Due, long FiredAt)> Fired { get; } = [];

        public Action<LoopTimer, long>? OnFire { get; set; }

        public void OnTimer(LoopTimer timer, long now)
        {
            Fired.Add((timer, timer.Due, now));
            OnFire?.Invoke(timer, now);
        }
    }

    [Fact]
    public void A_timer_fires_at_its_due_tick_and_not_before()
    {
        var wheel = new TimerWheel();
        var recorder = new Recorder();
        var timer = new LoopTimer(recorder);
        wheel.Schedule(timer, 5_000);
        Assert.Equal(0, wheel.Advance(4_999));
        Assert.True(timer.IsScheduled);
        Assert.Equal(1, wheel.Advance(5_000));
        Assert.False(timer.IsScheduled);
        Assert.Equal((5_000L, 5_000L), (recorder.Fired[0].Due, recorder.Fired[0].FiredAt));
        Assert.Null(wheel.NextDue());
    }

    [Fact]
    public void A_long_jump_fires_every_timer_passed_in_due_order()
    {
        var wheel = new TimerWheel(123);
        var recorder = new Recorder();
        long[] dues = [200, 64, 4_096, 4_095, 262_144, 300_000, 17_000_000_000, 65, 1_000_000];
        foreach (long due in dues)
        {
            wheel.Schedule(new LoopTimer(recorder), 123 + due);
        }

        Assert.Equal(dues.Length - 1, wheel.Advance(123 + 1_000_000));
        Assert.Equal([.. dues.Where(d => d <= 1_000_000).Order().Select(d => 123 + d)], recorder.Fired.Select(f => f.Due));
        Assert.All(recorder.Fired, f => Assert.True(f.FiredAt >= f.Due));
        Assert.Equal(1, wheel.Count);
        Assert.Equal(1, wheel.Advance(123 + 17_000_000_000));
    }

    [Fact]
    public void Next_due_is_never_later_than_the_earliest_timer()
    {
        var random = new Random(12345);
        var wheel = new TimerWheel();
        var recorder = new Recorder();
        var live = new Dictionary<LoopTimer, long>();
        long now = 0;
        for (int step = 0; step < 20_000; step++)
        {
            int action = random.Next(10);
            if (action < 5)
            {
                var timer = new LoopTimer(recorder);
                long due = now + 1 + (long)Math.Pow(2, random.NextDouble() * 30);
                wheel.Schedule(timer, due);
                live[timer] = due;
            }
            else if (action < 7 && live.Count > 0)
            {
                LoopTimer timer = live.Keys.ElementAt(random.Next(live.Count));
                wheel.Cancel(timer);
                live.Remove(timer);
            }
            else if (action < 8 && live.Count > 0)
            {
                LoopTimer timer = live.Keys.ElementAt(random.Next(live.Count));
                long due = now + 1 + random.Next(100_000);
                wheel.Schedule(timer, due); // move
                live[timer] = due;
            }
            else
            {
                if (wheel.NextDue() is { } next && live.Count > 0)
                {
                    Assert.True(next <= live.Values.Min(), $"next {next} after earliest {live.Values.Min()}");
                }

                now += random.Next(3) == 0 ? random.Next(1_000_000) : random.Next(100);
                recorder.Fired.Clear();
                wheel.Advance(now);
                foreach (var fired in recorder.Fired)
                {
                    Assert.True(live.Remove(fired.Timer, out long due), "a timer fired twice or after being cancelled");
                    Assert.Equal(due, fired.Due);
                    Assert.True(fired.FiredAt >= due, "fired early");
                }

                Assert.All(live.Values, due => Assert.True(due > now, "a due timer did not fire"));
            }

            Assert.Equal(live.Count, wheel.Count);
        }
    }

    [Fact]
    public void A_callback_may_cancel_or_reschedule_other_timers_of_the_same_tick()
    {
        var wheel = new TimerWheel();
        var recorder = new Recorder();
        var first = new LoopTimer(recorder, 1);
        var second = new LoopTimer(recorder, 2);
        var third = new LoopTimer(recorder, 3);
        wheel.Schedule(first, 100);
        wheel.Schedule(second, 100);
        wheel.Schedule(third, 100);
        bool once = false;
        recorder.OnFire = (timer, now) =>
        {
            if (timer.Tag == 1 && !once)
            {
                once = true;
                wheel.Cancel(second);
                wheel.Schedule(third, now + 50);
                wheel.Schedule(first, now); // due now: fires on the next tick, not in a loop
            }
        };

        Assert.Equal(1, wheel.Advance(100));
        Assert.Equal(1, wheel.Advance(101));
        Assert.Equal(1, wheel.Advance(150));
        Assert.Equal([1, 1, 3], recorder.Fired.Select(f => f.Timer.Tag));
        Assert.Equal(0, wheel.Count);
    }
}
