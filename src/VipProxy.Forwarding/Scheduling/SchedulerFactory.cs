using System.Collections.Immutable;
using VipProxy.Config.Model;

namespace VipProxy.Forwarding.Scheduling;

/// <summary>Creates the scheduler for an algorithm over a snapshot of real servers.</summary>
public static class SchedulerFactory
{
    /// <summary>Builds a scheduler; the snapshot should hold only servers that are up (or inhibited to weight 0).</summary>
    public static IScheduler Create(SchedulingAlgorithm algorithm, ImmutableArray<RealServerSnapshot> servers) => algorithm switch
    {
        SchedulingAlgorithm.RoundRobin => new RoundRobinScheduler(servers),
        SchedulingAlgorithm.WeightedRoundRobin => new WeightedRoundRobinScheduler(servers),
        SchedulingAlgorithm.LeastConnection => new LeastConnectionScheduler(servers),
        SchedulingAlgorithm.WeightedLeastConnection => new WeightedLeastConnectionScheduler(servers),
        SchedulingAlgorithm.SourceHashing => new SourceHashScheduler(servers),
        SchedulingAlgorithm.MaglevHashing => new MaglevScheduler(servers),
        SchedulingAlgorithm.WeightedFailover => new WeightedFailoverScheduler(servers),
        _ => throw new ArgumentOutOfRangeException(nameof(algorithm), algorithm, "Unknown scheduling algorithm."),
    };
}
