using System.Collections.Immutable;
using System.Net;
using VipProxy.Config.Model;

namespace VipProxy.Forwarding.Scheduling;

/// <summary>
/// <c>rr</c>: each new connection goes to the next server with weight above 0, whatever the weights are
/// (LVS <c>ip_vs_rr</c>).
/// </summary>
/// <remarks>
/// Weight-0 servers are filtered out when the scheduler is built, so the shared cursor only walks candidates and
/// draining a server does not make its neighbour receive two turns in a row. A server that is overloaded or
/// already tried is skipped for that pick only. The cursor is a 64-bit <see cref="Interlocked"/> counter: it does
/// not wrap in the life of a process.
/// </remarks>
public sealed class RoundRobinScheduler : SchedulerBase
{
    private readonly int[] _candidates;
    private long _cursor = -1;

    /// <summary>Builds the scheduler over a snapshot.</summary>
    public RoundRobinScheduler(ImmutableArray<RealServerSnapshot> servers)
        : base(servers)
    {
        _candidates = WeightedIndices(servers);
    }

    /// <inheritdoc />
    public override SchedulingAlgorithm Algorithm => SchedulingAlgorithm.RoundRobin;

    /// <inheritdoc />
    public override RealServerSnapshot? Pick(IPAddress client, ReadOnlySpan<RealServerSnapshot> excluded)
    {
        int count = _candidates.Length;
        if (count == 0)
        {
            return null;
        }

        long start = (long)((ulong)Interlocked.Increment(ref _cursor) % (ulong)count);
        for (int offset = 0; offset < count; offset++)
        {
            RealServerSnapshot candidate = Servers[_candidates[(start + offset) % count]];
            if (CanTake(candidate, excluded))
            {
                return candidate;
            }
        }

        return null;
    }
}
