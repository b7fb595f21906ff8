namespace VipProxy.Forwarding.Persistence;

/// <summary>
/// One persistence entry (an LVS "connection template"): which server a client network sticks to, how many of
/// its connections are open, and when the last one closed. Mutated only under the table's lock.
/// </summary>
internal sealed class PersistenceEntry(string serverName, long createdTimestamp)
{
    public string ServerName { get; set; } = serverName;

    public int OpenConnections { get; set; }

    /// <summary>Timestamp (<see cref="TimeProvider.GetTimestamp"/>) of the last close, or of creation.</summary>
    public long LastClosedTimestamp { get; set; } = createdTimestamp;
}
