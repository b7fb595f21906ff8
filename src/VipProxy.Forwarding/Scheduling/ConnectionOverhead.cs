namespace VipProxy.Forwarding.Scheduling;

/// <summary>LVS's measure of how busy a real server is.</summary>
public static class ConnectionOverhead
{
    /// <summary>
    /// <c>active × 256 + inactive</c>, as LVS's <c>ip_vs_dest_conn_overhead</c>: an established connection costs
    /// far more than one that is closing, so inactive ones only break ties between equally active servers.
    /// </summary>
    public static long Of(ConnectionCounters counters)
    {
        ArgumentNullException.ThrowIfNull(counters);
        return (counters.Active << 8) + counters.Inactive;
    }
}
