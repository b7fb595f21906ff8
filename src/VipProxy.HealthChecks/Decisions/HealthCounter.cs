namespace VipProxy.HealthChecks.Decisions;

/// <summary>
/// Rise/fall hysteresis in one counter, as HAProxy keeps it (<c>struct check.health</c> in check-t.h, updated in
/// <c>set_server_check_status</c>).
/// </summary>
/// <remarks>
/// <see cref="Health"/> lies in <c>[0, rise + fall − 1]</c> and the check is up while it is at least
/// <c>rise</c>. A success adds one; on reaching <c>rise</c> it jumps to the maximum, so an up check then needs
/// <c>fall</c> consecutive failures to go down. A failure subtracts one; on dropping below <c>rise</c> it jumps to
/// 0, so a down check needs <c>rise</c> consecutive successes to come up. A success between failures restores the
/// full margin, which is also keepalived's behaviour (its retry count restarts after a good probe).
/// Not thread-safe: one checker drives one counter.
/// </remarks>
public sealed class HealthCounter
{
    /// <summary>Creates a counter.</summary>
    /// <param name="rise">Consecutive successes that bring a down check up (at least 1).</param>
    /// <param name="fall">Consecutive failures that bring an up check down (at least 1).</param>
    /// <param name="initialUp">Start up at full margin (keepalived's default) or down at 0 (keepalived's
    /// <c>alpha</c>).</param>
    public HealthCounter(int rise, int fall, bool initialUp)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(rise, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(fall, 1);
        Rise = rise;
        Fall = fall;
        Health = initialUp ? Maximum : 0;
    }

    /// <summary>Consecutive successes needed to come up.</summary>
    public int Rise { get; }

    /// <summary>Consecutive failures needed to go down.</summary>
    public int Fall { get; }

    /// <summary>Largest value of <see cref="Health"/>: <c>rise + fall − 1</c>.</summary>
    public int Maximum => Rise + Fall - 1;

    /// <summary>The counter, in <c>[0, <see cref="Maximum"/>]</c>.</summary>
    public int Health { get; private set; }

    /// <summary>True while <see cref="Health"/> is at least <see cref="Rise"/>.</summary>
    public bool IsUp => Health >= Rise;

    /// <summary>True when the last results were all alike enough that no change is pending: fully up or fully
    /// down. Checkers probe faster while unsettled (HAProxy's <c>fastinter</c>, keepalived's
    /// <c>delay_before_retry</c>).</summary>
    public bool IsSettled => Health == 0 || Health == Maximum;

    /// <summary>Applies one probe result.</summary>
    public HealthTransition Record(bool success) => success ? RecordSuccess() : RecordFailure();

    /// <summary>Applies a passed probe.</summary>
    public HealthTransition RecordSuccess()
    {
        bool wasUp = IsUp;
        if (Health < Maximum)
        {
            Health++;
            if (Health >= Rise)
            {
                Health = Maximum;
            }
        }

        return !wasUp && IsUp ? HealthTransition.WentUp : HealthTransition.None;
    }

    /// <summary>Applies a failed probe.</summary>
    public HealthTransition RecordFailure()
    {
        bool wasUp = IsUp;
        if (Health > 0)
        {
            Health--;
            if (Health < Rise)
            {
                Health = 0;
            }
        }

        return wasUp && !IsUp ? HealthTransition.WentDown : HealthTransition.None;
    }
}
