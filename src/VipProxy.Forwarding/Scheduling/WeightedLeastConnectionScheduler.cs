using System.Collections.Immutable;
using System.Net;
using VipProxy.Config.Model;

namespace VipProxy.Forwarding.Scheduling;

/// <summary>
/// <c>wlc</c>: the server with the smallest overhead/weight (LVS <c>ip_vs_wlc</c>, keepalived's default).
/// </summary>
/// <remarks>
/// As in LVS the ratio is compared by cross-multiplying (<c>overhead_a × weight_b &gt; overhead_b × weight_a</c>),
/// which avoids division and rounding. The products are taken in 128 bits so no weight or connection count can
/// overflow them. Ties go to the first server in configuration order.
/// </remarks>
public sealed class WeightedLeastConnectionScheduler : SchedulerBase
{
    /// <summary>Builds the scheduler over a snapshot.</summary>
    public WeightedLeastConnectionScheduler(ImmutableArray<RealServerSnapshot> servers)
        : base(servers)
    {
    }

    /// <inheritdoc />
    public override SchedulingAlgorithm Algorithm => SchedulingAlgorithm.WeightedLeastConnection;

    /// <inheritdoc />
    public override RealServerSnapshot? Pick(IPAddress client, ReadOnlySpan<RealServerSnapshot> excluded)
    {
        RealServerSnapshot? least = null;
        long leastOverhead = 0;
        foreach (RealServerSnapshot server in Servers)
        {
            if (!CanTake(server, excluded))
            {
                continue;
            }

            long overhead = ConnectionOverhead.Of(server.Counters);
            if (least is null || (Int128)leastOverhead * server.Weight > (Int128)overhead * least.Weight)
            {
                least = server;
                leastOverhead = overhead;
            }
        }

        return least;
    }
}
