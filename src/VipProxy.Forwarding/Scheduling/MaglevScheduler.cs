using System.Collections.Immutable;
using System.Net;
using VipProxy.Config.Model;

namespace VipProxy.Forwarding.Scheduling;

/// <summary>
/// <c>mh</c>: Maglev consistent hashing of the client address (LVS <c>ip_vs_mh</c>), over a table built by
/// <see cref="MaglevTable.Build"/>.
/// </summary>
/// <remarks>
/// Stable per client, and when a server leaves the snapshot only the clients it owned move. The table is a
/// pure function of names and weights with a process-independent hash, so both load balancer nodes send a client
/// to the same server and a VIP failover does not reshuffle clients.
/// If the server a client hashes to is overloaded or already tried, the client is rehashed with further seeds
/// (as LVS's <c>mh-fallback</c> does), which spreads the fallback load by weight; after
/// <see cref="FallbackRehashes"/> misses it takes the next usable server in configuration order.
/// </remarks>
public sealed class MaglevScheduler : SchedulerBase
{
    /// <summary>Rehash attempts before the linear fallback.</summary>
    public const int FallbackRehashes = 8;

    private const ulong LookupSeed = 0x6D68_5F6C_6F6F_6B75; // "mh_looku"

    private readonly int[] _table;
    private readonly bool _empty;

    /// <summary>Builds the scheduler and its 65537-slot table over a snapshot.</summary>
    public MaglevScheduler(ImmutableArray<RealServerSnapshot> servers)
        : base(servers)
    {
        var names = new string[servers.Length];
        var weights = new int[servers.Length];
        for (int i = 0; i < servers.Length; i++)
        {
            names[i] = servers[i].Name;
            weights[i] = servers[i].Weight;
        }

        _table = MaglevTable.Build(names, weights);
        _empty = Array.TrueForAll(weights, weight => weight == 0);
    }

    /// <inheritdoc />
    public override SchedulingAlgorithm Algorithm => SchedulingAlgorithm.MaglevHashing;

    /// <inheritdoc />
    public override RealServerSnapshot? Pick(IPAddress client, ReadOnlySpan<RealServerSnapshot> excluded)
    {
        if (_empty)
        {
            return null;
        }

        ClientAddressKey key = ClientAddressKey.FromAddress(client);
        int first = _table[(int)(key.Hash(LookupSeed) % (ulong)_table.Length)];
        if (CanTake(Servers[first], excluded))
        {
            return Servers[first];
        }

        for (ulong attempt = 1; attempt <= FallbackRehashes; attempt++)
        {
            RealServerSnapshot candidate = Servers[_table[(int)(key.Hash(LookupSeed + attempt) % (ulong)_table.Length)]];
            if (CanTake(candidate, excluded))
            {
                return candidate;
            }
        }

        return FirstUsableFrom(first + 1, excluded);
    }
}
