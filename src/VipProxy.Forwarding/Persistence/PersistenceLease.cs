using VipProxy.Forwarding.Scheduling;

namespace VipProxy.Forwarding.Persistence;

/// <summary>
/// The result of <see cref="PersistenceTable.Acquire(System.Net.IPAddress, IScheduler)"/>: the server for a new
/// connection, and the entry that connection keeps alive. Release it exactly once, when the connection closes
/// (or when the connect to <see cref="Server"/> fails, before redispatching).
/// </summary>
public readonly struct PersistenceLease
{
    internal PersistenceLease(RealServerSnapshot server, PersistenceEntry entry)
    {
        Server = server;
        Entry = entry;
    }

    /// <summary>The chosen server; null when no server could take the connection.</summary>
    public RealServerSnapshot? Server { get; }

    /// <summary>True when a server was chosen.</summary>
    public bool HasServer => Server is not null;

    internal PersistenceEntry? Entry { get; }
}
