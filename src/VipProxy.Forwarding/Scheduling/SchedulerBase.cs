using SchedulingAlgorithm = VipProxy.Config.Model.SchedulingAlgorithm;
using System.Collections.Immutable;
using System.Net;

namespace VipProxy.Forwarding.Scheduling;

/// <summary>Shared validation and eligibility rules for the schedulers.</summary>
public abstract class SchedulerBase : IScheduler
{
    /// <summary>Validates the snapshot: no duplicate names.</summary>
    protected SchedulerBase(ImmutableArray<RealServer> servers)
    {
        if (servers.IsDefault)
        {
            throw new ArgumentException("The server list is not initialised.", nameof(servers));
        }

        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (RealServer server in servers)
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
    public ImmutableArray<RealServer> Servers { get; }

    /// <inheritdoc />
    public RealServer? Pick(IPAddress client) => Pick(client, []);

    /// <inheritdoc />
    public abstract RealServer? Pick(IPAddress client, ReadOnlySpan<RealServer> excluded);

    /// <summary>True when <paramref name="server"/> may take a new connection and was not already tried.</summary>
    protected static bool CanTake(RealServer server, ReadOnlySpan<RealServer> excluded)
    {
        if (!server.AcceptsNewConnections)
        {
            return false;
        }

        foreach (RealServer tried in excluded)
        {
            if (ReferenceEquals(tried, server) || string.Equals(tried.Name, server.Name, StringComparison.Ordinal))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Indices of the servers with weight above 0, in order (weight 0 drains).</summary>
    protected static int[] WeightedIndices(ImmutableArray<RealServer> servers)
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
    protected RealServer? FirstUsableFrom(int start, ReadOnlySpan<RealServer> excluded)
    {
        int count = Servers.Length;
        for (int offset = 0; offset < count; offset++)
        {
            RealServer candidate = Servers[(start + offset) % count];
            if (CanTake(candidate, excluded))
            {
                return candidate;
            }
        }

        return null;
    }
}
