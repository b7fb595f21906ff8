using System.Numerics;

namespace VipProxy.Forwarding.Loop;

/// <summary>What a <see cref="LoopTimer"/> calls when it expires.</summary>
internal interface ILoopTimerTarget
{
    /// <summary>The timer expired at <paramref name="now"/> (loop ticks, milliseconds). It is no longer scheduled.</summary>
    void OnTimer(LoopTimer timer, long now);
}

/// <summary>
/// One timer of a <see cref="TimerWheel"/>: intrusive (it is its own list node), so scheduling, moving and
/// cancelling allocate nothing. Owned by one loop; never touched from another thread.
/// </summary>
internal sealed class LoopTimer(ILoopTimerTarget target, int tag = 0)
{
    internal LoopTimer? Next;
    internal LoopTimer? Previous;
    internal int Level = -1;
    internal int Slot;

    /// <summary>Who is told when it expires.</summary>
    public ILoopTimerTarget Target { get; } = target;

    /// <summary>A number the target uses to tell its timers apart.</summary>
    public int Tag { get; } = tag;

    /// <summary>The tick at which it expires, while <see cref="IsScheduled"/>.</summary>
    public long Due { get; internal set; }

    /// <summary>True while it waits in a wheel.</summary>
    public bool IsScheduled => Level >= 0;
}

/// <summary>
/// The per-loop clock's timers: a hierarchical timing wheel (Varghese and Lauck's scheme 7, the shape of Linux's
/// timer wheel) over millisecond ticks. Pure: the loop passes the time in (ticks derived from
/// <see cref="TimeProvider"/> timestamps), so every deadline is tested on a fake clock.
/// </summary>
/// <remarks>
/// <para>Ticks are milliseconds since the loop started, read once per loop iteration, as haproxy's <c>now_ms</c>
/// (ticks.h). A timer fires at the first <see cref="Advance"/> whose time is at or after its due tick, never early.</para>
/// <para>Layout: <see cref="Levels"/> levels of 64 slots; level <c>l</c> covers ticks in units of 64^l. A timer goes to
/// the level of the highest base-64 digit in which its due tick differs from the current tick, into the slot named
/// by that digit; so it shares all higher digits with "now" and its slot is ahead of the current one in that level.
/// When the current tick reaches the start of an occupied slot of level l ≥ 1, that slot's timers are re-inserted
/// (they drop to a lower level, or fire); a level-0 slot holds only timers due at exactly its tick. One bitmap per
/// level gives the next slot to visit, so <see cref="Advance"/> jumps over idle stretches and
/// <see cref="NextDue"/> tells the loop how long it may sleep.</para>
/// <para>Cost: schedule and cancel O(1); each timer is re-inserted at most <see cref="Levels"/> times over its life.
/// Idle timeouts are re-armed lazily (the connection stores its last activity; the timer, when it fires early,
/// re-arms itself for the rest), so reads never touch the wheel.</para>
/// </remarks>
internal sealed class TimerWheel
{
    /// <summary>Levels: 64^7 ms is 139 years, so every timeout fits.</summary>
    public const int Levels = 7;

    private const int SlotBits = 6;
    private const int SlotCount = 1 << SlotBits;
    private const int SlotMask = SlotCount - 1;

    private readonly LoopTimer?[] _heads = new LoopTimer?[Levels * SlotCount];
    private readonly LoopTimer?[] _tails = new LoopTimer?[Levels * SlotCount];
    private readonly ulong[] _occupied = new ulong[Levels];
    private long _now;

    /// <summary>Creates an empty wheel whose current tick is <paramref name="now"/>.</summary>
    public TimerWheel(long now = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(now);
        _now = now;
    }

    /// <summary>The tick the wheel has advanced to.</summary>
    public long Now => _now;

    /// <summary>Timers scheduled now.</summary>
    public int Count { get; private set; }

    /// <summary>Schedules (or moves) <paramref name="timer"/> to expire at <paramref name="due"/>; a due tick that
    /// has passed fires at the next tick.</summary>
    public void Schedule(LoopTimer timer, long due)
    {
        ArgumentNullException.ThrowIfNull(timer);
        if (timer.IsScheduled)
        {
            Unlink(timer);
        }
        else
        {
            Count++;
        }

        timer.Due = due <= _now ? _now + 1 : due;
        Insert(timer);
    }

    /// <summary>Unschedules <paramref name="timer"/> (nothing happens when it is not scheduled).</summary>
    public void Cancel(LoopTimer timer)
    {
        ArgumentNullException.ThrowIfNull(timer);
        if (timer.IsScheduled)
        {
            Unlink(timer);
            Count--;
        }
    }

    /// <summary>
    /// The earliest tick at which <see cref="Advance"/> has work: a timer's due tick, or the start of a higher-level
    /// slot to cascade (which may be earlier than any due tick; the loop then wakes, cascades and sleeps again).
    /// Null when no timer is scheduled.
    /// </summary>
    public long? NextDue()
    {
        if (Count == 0)
        {
            return null;
        }

        long best = long.MaxValue;
        for (int level = 0; level < Levels; level++)
        {
            ulong occupied = _occupied[level];
            if (occupied == 0)
            {
                continue;
            }

            int shift = level * SlotBits;
            int current = (int)((_now >> shift) & SlotMask);

            // Every timer of this level sits in a slot after the current one (see the remarks); the current slot
            // itself can hold timers only at level 0 (due exactly now, if scheduled during this tick's firing).
            ulong ahead = level == 0 ? occupied & (ulong.MaxValue << current) : current == SlotMask ? 0 : occupied & (ulong.MaxValue << (current + 1));
            if (ahead == 0)
            {
                continue;
            }

            int slot = BitOperations.TrailingZeroCount(ahead);
            long groupStart = (_now >> (shift + SlotBits)) << (shift + SlotBits);
            long start = groupStart + ((long)slot << shift);
            best = Math.Min(best, start);
        }

        return best == long.MaxValue ? null : best;
    }

    /// <summary>
    /// Moves the wheel to <paramref name="now"/>, firing every timer due at or before it, in due order between
    /// levels and in scheduling order within a tick. A target may schedule or cancel timers from its callback.
    /// </summary>
    /// <returns>The number of timers fired.</returns>
    public int Advance(long now)
    {
        int fired = 0;
        while (true)
        {
            long? next = NextDue();
            if (next is not { } tick || tick > now)
            {
                break;
            }

            if (tick > _now)
            {
                _now = tick;
            }

            // Cascade from the top: a slot of level l becomes current when the tick is the start of its window. Its
            // timers share every digit above l with the tick now, so each lands in a lower level (never back here).
            for (int level = Levels - 1; level >= 1; level--)
            {
                int shift = level * SlotBits;
                if ((_now & ((1L << shift) - 1)) != 0)
                {
                    continue;
                }

                int index = (level * SlotCount) + (int)((_now >> shift) & SlotMask);
                while (_heads[index] is { } timer)
                {
                    Unlink(timer);
                    Insert(timer);
                }
            }

            // Fire one at a time from the live list, so a callback that cancels or reschedules another timer of this
            // tick is honoured; anything a callback schedules is due later, in another slot.
            int current = (int)(_now & SlotMask);
            while (_heads[current] is { } timer)
            {
                Unlink(timer);
                Count--;
                fired++;
                timer.Target.OnTimer(timer, _now);
            }
        }

        if (now > _now)
        {
            _now = now;
        }

        return fired;
    }

    private void Insert(LoopTimer timer)
    {
        long due = timer.Due;
        long difference = due ^ _now;
        int level = difference == 0 ? 0 : (63 - BitOperations.LeadingZeroCount((ulong)difference)) / SlotBits;
        if (level >= Levels)
        {
            level = Levels - 1; // beyond 139 years: unreachable with millisecond ticks; kept safe anyway
        }

        int slot = (int)((due >> (level * SlotBits)) & SlotMask);
        int index = (level * SlotCount) + slot;
        timer.Level = level;
        timer.Slot = slot;
        timer.Next = null;
        timer.Previous = _tails[index];
        if (timer.Previous is null)
        {
            _heads[index] = timer;
            _occupied[level] |= 1UL << slot;
        }
        else
        {
            timer.Previous.Next = timer;
        }

        _tails[index] = timer;
    }

    private void Unlink(LoopTimer timer)
    {
        int index = (timer.Level * SlotCount) + timer.Slot;
        if (timer.Previous is null)
        {
            _heads[index] = timer.Next;
        }
        else
        {
            timer.Previous.Next = timer.Next;
        }

        if (timer.Next is null)
        {
            _tails[index] = timer.Previous;
        }
        else
        {
            timer.Next.Previous = timer.Previous;
        }

        if (_heads[index] is null)
        {
            _occupied[timer.Level] &= ~(1UL << timer.Slot);
        }

        timer.Next = timer.Previous = null;
        timer.Level = -1;
    }
}
