using System.Diagnostics.CodeAnalysis;
using System.Net;
using VipProxy.Forwarding.Scheduling;

namespace VipProxy.Forwarding.Persistence;

/// <summary>
/// <c>persistence_timeout</c> with LVS semantics: a client network (the address masked by
/// <see cref="PersistenceGranularity"/>) sticks to one real server while it has connections open and for
/// <see cref="Timeout"/> after the last one closes.
/// </summary>
/// <remarks>
/// <para>Differences from LVS, deliberate:</para>
/// <list type="bullet">
/// <item>When a server goes down or is removed, <see cref="DropServer"/> deletes its entries at once. LVS keeps
/// its templates and goes on sending persistent clients to the dead server until they expire (keepalived issue
/// #1781).</item>
/// <item>An entry whose server has weight 0 (drained, or inhibited after a failed check) is re-pointed to a new
/// server, like LVS with <c>expire_quiescent_template=1</c>; LVS's default keeps feeding the quiescent server.</item>
/// <item>If the sticky server is only overloaded, this one connection spills to another server and the entry is
/// kept, so the client returns to its server once there is room.</item>
/// </list>
/// <para>Time comes from <see cref="TimeProvider.GetTimestamp"/> (monotonic, immune to clock steps). Expiry is
/// lazy on lookup plus <see cref="Sweep"/>, which the owner calls periodically to bound memory.</para>
/// <para>Thread safety: one <see cref="Lock"/> per table. The table is touched once when a connection opens and
/// once when it closes, never per read, and the critical section is a dictionary operation plus at most one
/// lock-free scheduler pick. A <c>ConcurrentDictionary</c> would not make "look up, else pick and insert, and
/// count the connection" atomic on its own: two simultaneous first connections from one client could stick to two
/// different servers.</para>
/// </remarks>
public sealed class PersistenceTable
{
    private readonly Lock _lock = new();
    private readonly Dictionary<ClientAddressKey, PersistenceEntry> _entries = [];
    private readonly TimeProvider _timeProvider;

    /// <summary>Creates an empty table.</summary>
    /// <param name="timeout">How long an entry outlives its last connection (above zero; keepalived's default is 360 s
    /// when the keyword has no value).</param>
    /// <param name="granularity">Which clients share an entry.</param>
    /// <param name="timeProvider">Clock.</param>
    public PersistenceTable(TimeSpan timeout, PersistenceGranularity granularity, TimeProvider timeProvider)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(timeout, TimeSpan.Zero);
        ArgumentNullException.ThrowIfNull(timeProvider);
        Timeout = timeout;
        Granularity = granularity;
        _timeProvider = timeProvider;
    }

    /// <summary>How long an entry outlives its last connection.</summary>
    public TimeSpan Timeout { get; }

    /// <summary>Which clients share an entry.</summary>
    public PersistenceGranularity Granularity { get; }

    /// <summary>Entries currently held, including expired ones not yet swept (for status output).</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _entries.Count;
            }
        }
    }

    /// <summary>Chooses the server for a new connection from <paramref name="client"/>: its sticky server if usable,
    /// else a scheduler pick that becomes sticky. The connection counts until the lease is released.</summary>
    public PersistenceLease Acquire(IPAddress client, IScheduler scheduler) => Acquire(client, scheduler, []);

    /// <summary>As <see cref="Acquire(IPAddress, IScheduler)"/>, never choosing a server in
    /// <paramref name="excluded"/>. A sticky server that was excluded (its connect failed) loses the entry to the
    /// new pick.</summary>
    public PersistenceLease Acquire(IPAddress client, IScheduler scheduler, ReadOnlySpan<RealServerSnapshot> excluded)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(scheduler);
        ClientAddressKey key = Granularity.KeyOf(client);
        lock (_lock)
        {
            long now = _timeProvider.GetTimestamp();
            PersistenceEntry? entry = LiveEntry(key, now);
            bool spill = false;
            if (entry is not null)
            {
                RealServerSnapshot? sticky = Find(scheduler, entry.ServerName);
                if (sticky is not null && sticky.Weight > 0 && !Contains(excluded, sticky))
                {
                    if (!sticky.IsOverloaded)
                    {
                        entry.OpenConnections++;
                        return new PersistenceLease(sticky, entry);
                    }

                    spill = true;
                }
            }

            RealServerSnapshot? picked = scheduler.Pick(client, excluded);
            if (picked is null)
            {
                return default;
            }

            if (entry is null)
            {
                entry = new PersistenceEntry(picked.Name, now);
                _entries.Add(key, entry);
            }
            else if (!spill)
            {
                entry.ServerName = picked.Name;
            }

            entry.OpenConnections++;
            return new PersistenceLease(picked, entry);
        }
    }

    /// <summary>Ends a connection counted by <paramref name="lease"/>; its entry starts its timeout when this was
    /// its last open connection.</summary>
    public void Release(PersistenceLease lease)
    {
        PersistenceEntry? entry = lease.Entry;
        if (entry is null)
        {
            return;
        }

        lock (_lock)
        {
            if (entry.OpenConnections > 0 && --entry.OpenConnections == 0)
            {
                entry.LastClosedTimestamp = _timeProvider.GetTimestamp();
            }
        }
    }

    /// <summary>The server a client currently sticks to, without counting a connection.</summary>
    public bool TryGetServer(IPAddress client, [NotNullWhen(true)] out string? serverName)
    {
        ArgumentNullException.ThrowIfNull(client);
        ClientAddressKey key = Granularity.KeyOf(client);
        lock (_lock)
        {
            serverName = LiveEntry(key, _timeProvider.GetTimestamp())?.ServerName;
            return serverName is not null;
        }
    }

    /// <summary>Deletes every entry of a server that went down or was removed; returns how many.</summary>
    /// <remarks>Open connections keep their leases; releasing them later is harmless.</remarks>
    public int DropServer(string serverName)
    {
        ArgumentNullException.ThrowIfNull(serverName);
        lock (_lock)
        {
            return RemoveWhere(entry => string.Equals(entry.ServerName, serverName, StringComparison.Ordinal));
        }
    }

    /// <summary>Deletes every expired entry; returns how many.</summary>
    public int Sweep()
    {
        lock (_lock)
        {
            long now = _timeProvider.GetTimestamp();
            return RemoveWhere(entry => IsExpired(entry, now));
        }
    }

    private PersistenceEntry? LiveEntry(ClientAddressKey key, long now)
    {
        if (!_entries.TryGetValue(key, out PersistenceEntry? entry))
        {
            return null;
        }

        if (!IsExpired(entry, now))
        {
            return entry;
        }

        _entries.Remove(key);
        return null;
    }

    private bool IsExpired(PersistenceEntry entry, long now) =>
        entry.OpenConnections == 0 && _timeProvider.GetElapsedTime(entry.LastClosedTimestamp, now) >= Timeout;

    private int RemoveWhere(Func<PersistenceEntry, bool> predicate)
    {
        int removed = 0;
        foreach (KeyValuePair<ClientAddressKey, PersistenceEntry> pair in _entries)
        {
            if (predicate(pair.Value))
            {
                // Removing during enumeration is allowed for Dictionary<,> since .NET Core 3.0.
                _entries.Remove(pair.Key);
                removed++;
            }
        }

        return removed;
    }

    private static RealServerSnapshot? Find(IScheduler scheduler, string name)
    {
        foreach (RealServerSnapshot server in scheduler.Servers)
        {
            if (string.Equals(server.Name, name, StringComparison.Ordinal))
            {
                return server;
            }
        }

        return null;
    }

    private static bool Contains(ReadOnlySpan<RealServerSnapshot> servers, RealServerSnapshot server)
    {
        foreach (RealServerSnapshot candidate in servers)
        {
            if (string.Equals(candidate.Name, server.Name, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }
}
