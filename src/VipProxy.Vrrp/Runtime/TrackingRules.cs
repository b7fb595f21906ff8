namespace VipProxy.Vrrp.Runtime;

/// <summary>
/// keepalived's weight semantics for tracked items, turned into what <see cref="Protocol.TrackedStateChanged"/>
/// carries: Fault, and the amount added to the configured priority.
/// </summary>
internal static class TrackingRules
{
    /// <summary>
    /// A <c>vrrp_script</c> (or tracked interface) result. <paramref name="reverse"/> (keepalived's <c>weight N
    /// reverse</c>) inverts the result before the weight applies, so <c>weight 0 reverse</c> faults while the script
    /// succeeds. Weight 0: down ⇒ Fault. Weight &gt; 0: +weight while up. Weight &lt; 0: −|weight| while down.
    /// </summary>
    public static (bool Faulted, int PriorityDelta) Contribution(bool up, int weight, bool reverse)
    {
        bool ok = reverse ? !up : up;
        return weight switch
        {
            0 => (!ok, 0),
            > 0 => (false, ok ? weight : 0),
            _ => (false, ok ? 0 : weight),
        };
    }
}

/// <summary>
/// The rise/fall hysteresis of one <c>vrrp_script</c>: <c>rise</c> consecutive successes bring a down script up,
/// <c>fall</c> consecutive failures take an up script down. It starts up, or down with <c>init_fail</c> (keepalived
/// runs the check at once, so an unhealthy script takes the instance down after <c>fall</c> runs). Pure.
/// </summary>
internal sealed class ScriptHysteresis
{
    private readonly int _rise;
    private readonly int _fall;
    private int _successes;
    private int _failures;

    public ScriptHysteresis(int rise, int fall, bool initFail)
    {
        _rise = Math.Max(1, rise);
        _fall = Math.Max(1, fall);
        IsUp = !initFail;
    }

    /// <summary>Current verdict.</summary>
    public bool IsUp { get; private set; }

    /// <summary>Records one run; true when <see cref="IsUp"/> changed.</summary>
    public bool Record(bool success)
    {
        if (success)
        {
            _failures = 0;
            _successes = Math.Min(_successes + 1, _rise);
            if (!IsUp && _successes >= _rise)
            {
                IsUp = true;
                return true;
            }
        }
        else
        {
            _successes = 0;
            _failures = Math.Min(_failures + 1, _fall);
            if (IsUp && _failures >= _fall)
            {
                IsUp = false;
                return true;
            }
        }

        return false;
    }
}
