using System.Collections.Immutable;
using System.Net;
using VipProxy.Config.Model;

namespace VipProxy.Forwarding.Scheduling;

/// <summary>
/// <c>lc</c>: the server with the smallest <see cref="ConnectionOverhead"/>, ignoring weights except that weight 0
/// drains (LVS <c>ip_vs_lc</c>). Ties go to the first in configuration order, as in LVS.
/// </summary>
public sealed class LeastConnectionScheduler : SchedulerBase
{
    /// <summary>Builds the scheduler over a snapshot.</summary>
    public LeastConnectionScheduler(ImmutableArray<RealServerSnapshot> servers)
        : base(servers)
    {
    }

    /// <inheritdoc />
    public override SchedulingAlgorithm Algorithm => SchedulingAlgorithm.LeastConnection;

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
            if (least is null || overhead < leastOverhead)
            {
                least = server;
                leastOverhead = overhead;
            }
        }

        return least;
    }
}
