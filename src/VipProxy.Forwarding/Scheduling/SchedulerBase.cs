using System.Collections.Immutable;
using System.Net;
using VipProxy.Config.Model;

namespace VipProxy.Forwarding.Scheduling;

/// <summary>Shared validation and eligibility rules for the schedulers.</summary>
public abstract class SchedulerBase : IScheduler
{
    /// <summary>Validates the snapshot: no duplicate names.</summary>
    protected SchedulerBase(ImmutableArray<RealServerSnapshot> servers)
    {
        if (servers.IsDefault)
        {
            throw new ArgumentException("The server list is not initialised.", nameof(servers));
        }

        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (RealServerSnapshot server in servers)
        {
            ArgumentNullException.ThrowIfNull(server, nameof(servers));
            if (!names.Add(server.Name))
            {
                throw new ArgumentException($"Real server '{server.Name}' appears twice.", nameof(servers));
            }
        }

        Servers = servers;
    }

    /// <inheritdoc />
    public abstract SchedulingAlgorithm Algorithm { get; }

    /// <inheritdoc />
    public ImmutableArray<RealServerSnapshot> Servers { get; }

    /// <inheritdoc />
    public RealServerSnapshot? Pick(IPAddress client) => Pick(client, []);

    /// <inheritdoc />
    public abstract RealServerSnapshot? Pick(IPAddress client, ReadOnlySpan<RealServerSnapshot> excluded);

    /// <summary>True when <paramref name="server"/> may take a new connection and was not already tried.</summary>
    protected static bool CanTake(RealServerSnapshot server, ReadOnlySpan<RealServerSnapshot> excluded)
    {
        if (!server.AcceptsNewConnections)
        {
            return false;
        }

        foreach (RealServerSnapshot tried in excluded)
        {
            if (ReferenceEquals(tried, server) || string.Equals(tried.Name, server.Name, StringComparison.Ordinal))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Indices of the servers with weight above 0, in order (weight 0 drains).</summary>
    protected static int[] WeightedIndices(ImmutableArray<RealServerSnapshot> servers)
    {
        var indices = new List<int>(servers.Length);
        for (int i = 0; i < servers.Length; i++)
        {
            if (servers[i].Weight > 0)
            {
                indices.Add(i);
            }
        }

        return [.. indices];
    }

    /// <summary>
    /// Deterministic fallback: the first server that can take the connection, scanning the snapshot from
    /// <paramref name="start"/> and wrapping. O(servers); only reached when the preferred server is unusable.
    /// </summary>
    protected RealServerSnapshot? FirstUsableFrom(int start, ReadOnlySpan<RealServerSnapshot> excluded)
    {
        int count = Servers.Length;
        for (int offset = 0; offset < count; offset++)
        {
            RealServerSnapshot candidate = Servers[(start + offset) % count];
            if (CanTake(candidate, excluded))
            {
                return candidate;
            }
        }

        return null;
    }
}
