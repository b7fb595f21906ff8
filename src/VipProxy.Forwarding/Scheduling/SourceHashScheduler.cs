using System.Collections.Immutable;
using System.Net;
using VipProxy.Config.Model;

namespace VipProxy.Forwarding.Scheduling;

/// <summary>
/// <c>sh</c>: a static hash of the client address into a table of buckets, each owned by a server in proportion to
/// its weight (LVS <c>ip_vs_sh</c>).
/// </summary>
/// <remarks>
/// Differences from LVS, all deliberate:
/// <list type="bullet">
/// <item>LVS fills its 256 buckets with runs of <c>weight</c> consecutive buckets per server, so weights summing
/// past 256 starve the last servers (100:100:100 gives 100:100:56). Here the buckets are filled by cycling the
/// smooth weighted sequence over 4096 buckets, which keeps the ratio for any weights.</item>
/// <item>Weight-0 servers own no bucket (LVS gives them one and then skips them).</item>
/// <item>A bucket whose server is overloaded or already tried falls back as LVS's <c>sh-fallback</c> flag does,
/// always on: to the next usable server in configuration order after the one hashed to, which is deterministic
/// per client.</item>
/// </list>
/// Like LVS, adding or removing a server rebuilds the table and moves many clients; use <c>mh</c> when that
/// matters.
/// </remarks>
public sealed class SourceHashScheduler : SchedulerBase
{
    /// <summary>Number of buckets.</summary>
    public const int TableSize = 4096;

    private const ulong HashSeed = 0x5348_5F76_6970_7078; // "SH_vippx": any fixed value; both nodes must agree.

    private readonly int[] _buckets;

    /// <summary>Builds the scheduler and its bucket table over a snapshot.</summary>
    public SourceHashScheduler(ImmutableArray<RealServerSnapshot> servers)
        : base(servers)
    {
        var weights = new int[servers.Length];
        for (int i = 0; i < weights.Length; i++)
        {
            weights[i] = servers[i].Weight;
        }

        int[] cycle = SmoothWeightedSequence.Build(weights, TableSize);
        _buckets = new int[cycle.Length == 0 ? 0 : TableSize];
        for (int i = 0; i < _buckets.Length; i++)
        {
            _buckets[i] = cycle[i % cycle.Length];
        }
    }

    /// <inheritdoc />
    public override SchedulingAlgorithm Algorithm => SchedulingAlgorithm.SourceHashing;

    /// <inheritdoc />
    public override RealServerSnapshot? Pick(IPAddress client, ReadOnlySpan<RealServerSnapshot> excluded)
    {
        if (_buckets.Length == 0)
        {
            return null;
        }

        ulong hash = ClientAddressKey.FromAddress(client).Hash(HashSeed);
        int index = _buckets[(int)(hash % TableSize)];
        RealServerSnapshot preferred = Servers[index];
        return CanTake(preferred, excluded) ? preferred : FirstUsableFrom(index + 1, excluded);
    }
}
