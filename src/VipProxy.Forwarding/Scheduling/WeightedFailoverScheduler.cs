using System.Collections.Immutable;
using System.Net;
using VipProxy.Config.Model;

namespace VipProxy.Forwarding.Scheduling;

/// <summary>
/// <c>fo</c>: weighted failover (LVS <c>ip_vs_fo</c>, keepalived's <c>lb_algo fo</c>): every new connection goes to
/// the usable server with the highest weight; the others take nothing until it is down, drained or overloaded.
/// </summary>
/// <remarks>
/// The order is fixed when the snapshot is built: weight descending, ties in configuration order (LVS takes the
/// first of equal weights in its list, which is configuration order too). A pick walks that order and returns the
/// first server that can take the connection, so it is lock-free and allocation-free and usually stops at the
/// first entry. A server that goes down leaves the snapshot; one inhibited to weight 0 stays in it but is never
/// picked — either way the next in the order takes over.
/// </remarks>
public sealed class WeightedFailoverScheduler : SchedulerBase
{
    private readonly int[] _order;

    /// <summary>Builds the scheduler and its failover order over a snapshot.</summary>
    public WeightedFailoverScheduler(ImmutableArray<RealServerSnapshot> servers)
        : base(servers)
    {
        int[] weighted = WeightedIndices(servers);
        // A stable sort: equal weights keep configuration order.
        _order = [.. weighted.OrderByDescending(i => servers[i].Weight)];
    }

    /// <inheritdoc />
    public override SchedulingAlgorithm Algorithm => SchedulingAlgorithm.WeightedFailover;

    /// <inheritdoc />
    public override RealServerSnapshot? Pick(IPAddress client, ReadOnlySpan<RealServerSnapshot> excluded)
    {
        foreach (int index in _order)
        {
            RealServerSnapshot candidate = Servers[index];
            if (CanTake(candidate, excluded))
            {
                return candidate;
            }
        }

        return null;
    }
}
