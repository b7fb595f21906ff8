using VipProxy.Config.Model;
using VipProxy.Forwarding.Persistence;
using VipProxy.Forwarding.Scheduling;

namespace VipProxy.Forwarding.Runtime;

/// <summary>
/// Everything a new connection needs to be dispatched, immutable and swapped as a whole: the data path reads it
/// once per attempt with a single volatile read and never takes a lock.
/// </summary>
/// <param name="Config">The virtual server configuration in force.</param>
/// <param name="Scheduler">Scheduler over the servers that are up (and inhibited ones at weight 0).</param>
/// <param name="Persistence">The persistence table, or null when persistence is off.</param>
/// <param name="SorryServer">The sorry server, or null.</param>
/// <param name="HasLiveServer">True when at least one real server is up with weight above 0.</param>
internal sealed record DispatchSnapshot(
    VirtualServer Config,
    IScheduler Scheduler,
    PersistenceTable? Persistence,
    RealServerSnapshot? SorryServer,
    bool HasLiveServer);
