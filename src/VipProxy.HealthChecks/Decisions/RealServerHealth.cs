namespace VipProxy.HealthChecks.Decisions;

/// <summary>
/// A real server's state from all of its checkers: up only while every checker passes (keepalived counts failed
/// checkers per real server and marks it up when that count is 0).
/// </summary>
/// <remarks>A server with no checkers is always up, as in keepalived. Not thread-safe: the owner serialises
/// checker results for one server.</remarks>
public sealed class RealServerHealth
{
    private readonly bool[] _checkerUp;
    private int _failing;

    /// <summary>Creates the aggregate with every checker in the same initial state.</summary>
    /// <param name="checkerCount">Number of checkers of the server.</param>
    /// <param name="initialUp">Each checker's initial state (false with keepalived's <c>alpha</c>).</param>
    public RealServerHealth(int checkerCount, bool initialUp)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(checkerCount);
        _checkerUp = new bool[checkerCount];
        Array.Fill(_checkerUp, initialUp);
        _failing = initialUp ? 0 : checkerCount;
    }

    /// <summary>Number of checkers.</summary>
    public int CheckerCount => _checkerUp.Length;

    /// <summary>Checkers currently failing.</summary>
    public int FailingCheckers => _failing;

    /// <summary>True while no checker fails.</summary>
    public bool IsUp => _failing == 0;

    /// <summary>Records a checker's state (typically the <see cref="CheckDecision.IsUp"/> it just reported) and
    /// returns whether the server's state changed.</summary>
    public HealthTransition SetCheckerState(int checkerIndex, bool up)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(checkerIndex);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(checkerIndex, _checkerUp.Length);
        if (_checkerUp[checkerIndex] == up)
        {
            return HealthTransition.None;
        }

        bool wasUp = IsUp;
        _checkerUp[checkerIndex] = up;
        _failing += up ? -1 : 1;
        return (wasUp, IsUp) switch
        {
            (false, true) => HealthTransition.WentUp,
            (true, false) => HealthTransition.WentDown,
            _ => HealthTransition.None,
        };
    }
}
