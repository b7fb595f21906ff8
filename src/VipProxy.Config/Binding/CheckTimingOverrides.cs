using VipProxy.Config.Syntax;

namespace VipProxy.Config.Binding;

/// <summary>
/// Checker timing that may be set on the checker, its real server or its virtual server (keepalived 2.x);
/// the nearest one wins, then keepalived's defaults.
/// </summary>
internal sealed class CheckTimingOverrides
{
    public TimeSpan? DelayLoop;
    public TimeSpan? ConnectTimeout;
    public int? Retry;
    public TimeSpan? DelayBeforeRetry;
    public TimeSpan? Warmup;
    public int? Rise;

    public CheckTimingOverrides Over(CheckTimingOverrides parent) => new()
    {
        DelayLoop = DelayLoop ?? parent.DelayLoop,
        ConnectTimeout = ConnectTimeout ?? parent.ConnectTimeout,
        Retry = Retry ?? parent.Retry,
        DelayBeforeRetry = DelayBeforeRetry ?? parent.DelayBeforeRetry,
        Warmup = Warmup ?? parent.Warmup,
        Rise = Rise ?? parent.Rise,
    };

    /// <summary>Adds the timing keywords to a table whose builder exposes a <see cref="CheckTimingOverrides"/>.</summary>
    public static void AddTo<T>(KeywordTable<T> table, Func<T, CheckTimingOverrides> timing, bool withConnectTimeout = true)
    {
        table.Add("delay_loop", (b, s, c) => { if (Seconds(s, c, 0.001, 86_400, out var v)) { timing(b).DelayLoop = v; } });
        if (withConnectTimeout)
        {
            table.Add("connect_timeout", (b, s, c) => { if (Seconds(s, c, 0.001, 3600, out var v)) { timing(b).ConnectTimeout = v; } });
        }

        table.Add("retry", (b, s, c) => { if (Count(s, c, out int v)) { timing(b).Retry = v; } });
        table.Add("nb_get_retry", (b, s, c) =>
        {
            c.Warning(s.Location, "'nb_get_retry' is deprecated (as in keepalived): write 'retry'");
            if (Count(s, c, out int v))
            {
                timing(b).Retry = v;
            }
        });
        table.Add("delay_before_retry", (b, s, c) => { if (Seconds(s, c, 0, 86_400, out var v)) { timing(b).DelayBeforeRetry = v; } });
        table.Add("rise", (b, s, c) =>
        {
            if (c.Arguments(s, 1, 1, "rise COUNT") && c.Integer(s.Arguments[0], s.Name, 1, 1000, out int v))
            {
                timing(b).Rise = v;
            }
        });
        table.Add("warmup", (b, s, c) => { if (Seconds(s, c, 0, 86_400, out var v)) { timing(b).Warmup = v; } });
    }

    private static bool Seconds(Statement s, BindContext c, double min, double max, out TimeSpan value)
    {
        value = default;
        return c.Arguments(s, 1, 1, $"{s.Name} SECONDS") && c.Seconds(s.Arguments[0], s.Name, min, max, out value);
    }

    private static bool Count(Statement s, BindContext c, out int value)
    {
        value = 0;
        return c.Arguments(s, 1, 1, $"{s.Name} COUNT") && c.Integer(s.Arguments[0], s.Name, 0, 1000, out value);
    }
}
