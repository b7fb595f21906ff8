namespace VipProxy.HealthChecks.Decisions;

/// <summary>
/// <c>slowstart SECS</c>: the weight a real server that has just come back up gets, ramping linearly from 1 to its
/// full weight over the window, as HAProxy's slowstart does. A database or cache that restarts cold is then handed
/// its share of new connections gradually instead of all at once. Pure: time is an input.
/// </summary>
public static class SlowStartRamp
{
    private static readonly TimeSpan ShortestStep = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan LongestStep = TimeSpan.FromSeconds(1);

    /// <summary>The weight <paramref name="sinceUp"/> after the server came up: at least 1 while <paramref name="target"/>
    /// is positive, the full <paramref name="target"/> once the window has passed.</summary>
    public static int WeightAt(int target, TimeSpan sinceUp, TimeSpan window)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(target);
        if (target == 0 || window <= TimeSpan.Zero || sinceUp >= window)
        {
            return target;
        }

        double share = Math.Max(0, sinceUp.Ticks) / (double)window.Ticks;
        return (int)Math.Clamp(Math.Ceiling(target * share), 1, target);
    }

    /// <summary>True while the ramp still lowers the weight.</summary>
    public static bool IsRamping(TimeSpan sinceUp, TimeSpan window) => window > TimeSpan.Zero && sinceUp < window;

    /// <summary>How often the weight is recomputed: a twentieth of the window, between 0.1 s and 1 s.</summary>
    public static TimeSpan Step(TimeSpan window) =>
        TimeSpan.FromTicks(Math.Clamp(window.Ticks / 20, ShortestStep.Ticks, LongestStep.Ticks));
}
