using System.Collections.Immutable;
using System.Net;
using VipProxy.Config.Model;

namespace VipProxy.Forwarding.Scheduling;

/// <summary>
/// Chooses a real server for a new client connection from an immutable snapshot of the servers that are up.
/// </summary>
/// <remarks>
/// A scheduler is built for one snapshot; when health or weights change the owner builds a new scheduler and
/// swaps the reference. Picks are lock-free and do not allocate, and may run on any number of threads at once.
/// No pick ever returns a server with weight 0 or one that is overloaded.
/// </remarks>
public interface IScheduler
{
    /// <summary>The algorithm this scheduler implements.</summary>
    SchedulingAlgorithm Algorithm { get; }

    /// <summary>The servers this scheduler chooses from, in configuration order.</summary>
    ImmutableArray<RealServerSnapshot> Servers { get; }

    /// <summary>Chooses a server for a new connection from <paramref name="client"/>; null when none can take it.</summary>
    RealServerSnapshot? Pick(IPAddress client);

    /// <summary>
    /// Chooses a server, never one in <paramref name="excluded"/> (matched by <see cref="RealServerSnapshot.Name"/>):
    /// used to redispatch a client after a failed connect to the servers already tried.
    /// </summary>
    RealServerSnapshot? Pick(IPAddress client, ReadOnlySpan<RealServerSnapshot> excluded);
}
