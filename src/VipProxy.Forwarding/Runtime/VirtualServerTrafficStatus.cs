using System.Collections.Immutable;
using System.Net;
using VipProxy.Config.Model;
using VipProxy.Forwarding.Relay;

namespace VipProxy.Forwarding.Runtime;

/// <summary>A point-in-time view of a virtual server, for <c>vipproxy status</c>.</summary>
/// <param name="Endpoint">The configured address.</param>
/// <param name="ListeningOn">The bound address (null when not listening).</param>
/// <param name="Algorithm">Scheduler.</param>
/// <param name="Accepting">True while new clients are accepted.</param>
/// <param name="OpenConnections">Client connections counted against <c>maxconn</c> now.</param>
/// <param name="AcceptedConnections">Client connections accepted since start.</param>
/// <param name="PersistenceEntries">Persistence entries held (null when persistence is off).</param>
/// <param name="SorryServerActive">True while no real server is up and a sorry server is configured.</param>
/// <param name="RealServers">Configured real servers, then removed ones still draining.</param>
/// <param name="SorryServer">The sorry server, if configured.</param>
/// <param name="CloseReasons">Finished connections by close reason (refusals included).</param>
public sealed record VirtualServerTrafficStatus(
    IPEndPoint Endpoint,
    IPEndPoint? ListeningOn,
    SchedulingAlgorithm Algorithm,
    bool Accepting,
    long OpenConnections,
    long AcceptedConnections,
    int? PersistenceEntries,
    bool SorryServerActive,
    ImmutableArray<RealServerTrafficStatus> RealServers,
    RealServerTrafficStatus? SorryServer,
    ImmutableArray<CloseReasonCount> CloseReasons)
{
    /// <summary>Client IPs held in the per-source admission table (0 when no per-source limit is set).</summary>
    public int TrackedSources { get; init; }

    /// <summary>Connections admitted without per-source accounting because the admission table was full of
    /// sources with open connections (see <see cref="Admission.SourceAdmissionTable"/>).</summary>
    public long UntrackedSourceAdmissions { get; init; }

    /// <summary>Connections whose handling threw in the proxy: each was closed (<see cref="CloseReason.ProxyError"/>)
    /// and the others went on.</summary>
    public long Crashes { get; init; }

    /// <summary>Event loops the virtual server runs on (<c>forwarder_threads</c>).</summary>
    public int ForwarderThreads { get; init; }

    /// <summary>Clients refused by <c>maxconn_per_source</c>.</summary>
    public long SourceLimitRefused => CountOf(CloseReason.SourceLimit);

    /// <summary>Clients refused by <c>conn_rate_per_source</c>.</summary>
    public long SourceRateRefused => CountOf(CloseReason.SourceRateLimit);

    /// <summary>Finished connections closed for <paramref name="reason"/>.</summary>
    public long CountOf(CloseReason reason)
    {
        foreach (CloseReasonCount count in CloseReasons)
        {
            if (count.Reason == reason)
            {
                return count.Count;
            }
        }

        return 0;
    }

    /// <summary>The real server at <paramref name="endpoint"/>, or null.</summary>
    public RealServerTrafficStatus? Find(IPEndPoint endpoint)
    {
        foreach (RealServerTrafficStatus server in RealServers)
        {
            if (server.Endpoint.Equals(endpoint))
            {
                return server;
            }
        }

        return null;
    }
}

/// <summary>One real server in <see cref="VirtualServerTrafficStatus"/>.</summary>
/// <param name="Name">Identity (<c>ip:port</c>).</param>
/// <param name="Endpoint">Address.</param>
/// <param name="ConfiguredWeight">Weight from the configuration.</param>
/// <param name="EffectiveWeight">Weight the scheduler uses now; null when not scheduled (down, removed, held
/// down as suspect, or a backup standing by).</param>
/// <param name="Up">Health state as last reported.</param>
/// <param name="Draining">Removed by a reload; existing connections continue.</param>
/// <param name="ActiveConnections">Established connections.</param>
/// <param name="InactiveConnections">Half-closed connections.</param>
/// <param name="TotalConnections">Connections ever forwarded.</param>
/// <param name="BytesToServer">Bytes forwarded to it (finished and live connections).</param>
/// <param name="BytesFromServer">Bytes received from it.</param>
/// <param name="FailedConnects">Forwarder connect attempts that failed.</param>
/// <param name="MaxConnections">Open-connection limit (0 = none).</param>
public sealed record RealServerTrafficStatus(
    string Name,
    IPEndPoint Endpoint,
    int ConfiguredWeight,
    int? EffectiveWeight,
    bool Up,
    bool Draining,
    long ActiveConnections,
    long InactiveConnections,
    long TotalConnections,
    long BytesToServer,
    long BytesFromServer,
    long FailedConnects,
    long MaxConnections)
{
    /// <summary>True while a failed forwarder connect has marked the server suspect: it is up as far as health
    /// checks know, but gets no new clients (see <see cref="HeldDown"/>) until a check reports it up or the
    /// hold-down ends.</summary>
    public bool Suspect { get; init; }

    /// <summary>True while the server is suspect and left out of scheduling. A suspect server is still scheduled
    /// when every live real server is suspect (a client is never refused for that alone).</summary>
    public bool HeldDown { get; init; }

    /// <summary>True for a <c>backup</c> server.</summary>
    public bool Backup { get; init; }

    /// <summary>True while this backup gets no new clients because a non-backup server is up.</summary>
    public bool StandingBy { get; init; }

    /// <summary>Time left of the hold-down while <see cref="Suspect"/>; null otherwise.</summary>
    public TimeSpan? SuspectRemaining { get; init; }

    /// <summary>The operator's override (drain, disable, runtime weight).</summary>
    public RealServerOperatorState Operator { get; init; } = RealServerOperatorState.None;
}

/// <summary>How many connections ended for one reason.</summary>
public readonly record struct CloseReasonCount(CloseReason Reason, long Count);

/// <summary>One live connection.</summary>
/// <param name="Id">Connection id (unique within the process).</param>
/// <param name="Client">Client address.</param>
/// <param name="RealServer">Real server (null while connecting).</param>
/// <param name="BytesFromClient">Bytes read from the client.</param>
/// <param name="BytesToServer">Bytes written to the real server.</param>
/// <param name="BytesFromServer">Bytes read from the real server.</param>
/// <param name="BytesToClient">Bytes written to the client.</param>
/// <param name="BufferedBytes">Bytes held inside the proxy (read, not yet written).</param>
/// <param name="Age">Time since accept.</param>
/// <param name="Idle">Time since the last read from either side.</param>
/// <param name="HalfClosed">One side has sent FIN.</param>
public sealed record ConnectionStatus(
    long Id,
    IPEndPoint? Client,
    IPEndPoint? RealServer,
    long BytesFromClient,
    long BytesToServer,
    long BytesFromServer,
    long BytesToClient,
    long BufferedBytes,
    TimeSpan Age,
    TimeSpan Idle,
    bool HalfClosed)
{
    /// <summary>The virtual server (VIP and port) the client connected to.</summary>
    public IPEndPoint? VirtualServer { get; init; }
}
