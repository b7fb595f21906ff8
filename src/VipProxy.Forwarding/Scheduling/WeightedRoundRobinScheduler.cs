using System.Collections.Immutable;
using System.Net;
using VipProxy.Config.Model;

namespace VipProxy.Forwarding.Scheduling;

/// <summary>
/// <c>wrr</c>: weighted round robin using the smooth sequence (see <see cref="SmoothWeightedSequence"/>) rather
/// than LVS's interleaved gcd stepping.
/// </summary>
/// <remarks>
/// Why smooth: MySQL clients open pools in bursts. LVS's <c>ip_vs_wrr</c> serves the heaviest server
/// max−second-max times in a row, so a 5:1:1 pool's first five connections of a burst all land on one server;
/// the smooth order spreads them. Both give the exact ratio over a cycle. Smooth WRR normally mutates per-server
/// scores under a lock; here the whole cycle is precomputed when the snapshot is built, so a pick is one
/// <see cref="Interlocked.Increment(ref long)"/> and an array read. If the chosen server is overloaded or already
/// tried, the next usable server in configuration order takes the connection.
/// </remarks>
public sealed class WeightedRoundRobinScheduler : SchedulerBase
{
    private readonly int[] _sequence;
    private long _cursor = -1;

    /// <summary>Builds the scheduler and its cycle over a snapshot.</summary>
    public WeightedRoundRobinScheduler(ImmutableArray<RealServerSnapshot> servers)
        : base(servers)
    {
        var weights = new int[servers.Length];
        for (int i = 0; i < weights.Length; i++)
        {
            weights[i] = servers[i].Weight;
        }

        _sequence = SmoothWeightedSequence.Build(weights);
    }

    /// <summary>Length of one weighted cycle (sum of weights divided by their gcd).</summary>
    public int CycleLength => _sequence.Length;

    /// <inheritdoc />
    public override SchedulingAlgorithm Algorithm => SchedulingAlgorithm.WeightedRoundRobin;

    /// <inheritdoc />
    public override RealServerSnapshot? Pick(IPAddress client, ReadOnlySpan<RealServerSnapshot> excluded)
    {
        if (_sequence.Length == 0)
        {
            return null;
        }

        long position = (long)((ulong)Interlocked.Increment(ref _cursor) % (ulong)_sequence.Length);
        int index = _sequence[position];
        RealServerSnapshot preferred = Servers[index];
        return CanTake(preferred, excluded) ? preferred : FirstUsableFrom(index + 1, excluded);
    }
}
