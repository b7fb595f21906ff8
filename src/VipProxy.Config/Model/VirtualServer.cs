using System.Net;
using VipProxy.Core.ProxyProtocol;

namespace VipProxy.Config.Model;

/// <summary><c>virtual_server IP PORT { … }</c>: a TCP listener and the real servers behind it.</summary>
/// <param name="Endpoint">Address and port to listen on (usually a VIP; bound with IP_FREEBIND so a backup can listen before it holds the VIP).</param>
/// <param name="DelayLoop"><c>delay_loop SECS</c>: health check period. Default 60 s.</param>
/// <param name="Algorithm"><c>lb_algo rr|wrr|lc|wlc|sh|mh|fo</c>. Default wlc.</param>
/// <param name="PersistenceTimeout"><c>persistence_timeout [SECS]</c>: keep a client on its real server this long after its last connection. Null: off. The keyword alone means 360 s.</param>
/// <param name="PersistenceGranularity"><c>persistence_granularity MASK</c>: clients in one masked network share an entry. Default 255.255.255.255.</param>
/// <param name="SorryServer"><c>sorry_server IP PORT</c>: used only while no real server is up.</param>
/// <param name="SorryServerInhibit"><c>sorry_server_inhibit</c>: the sorry server is kept with weight 0 rather than removed when not needed.</param>
/// <param name="InhibitOnFailure"><c>inhibit_on_failure</c>: real servers that fail keep weight 0 (no new connections) instead of being removed; default for each real server.</param>
/// <param name="Quorum"><c>quorum N</c>: minimum sum of weights of live real servers for the service to count as up. Default 1.</param>
/// <param name="Hysteresis"><c>hysteresis N</c>: quorum is lost below quorum − N and regained at quorum + N. Default 0.</param>
/// <param name="QuorumUp"><c>quorum_up "CMD"</c>.</param>
/// <param name="QuorumDown"><c>quorum_down "CMD"</c>.</param>
/// <param name="Alpha"><c>alpha</c>: real servers start down until their first successful check. Default: start up.</param>
/// <param name="Omega"><c>omega</c>: run notify_down/quorum_down scripts when the virtual server is removed.</param>
/// <param name="MaxConnections">VipProxy <c>maxconn N</c>: at most N concurrent client connections; beyond it a new client is closed at once. Default: unlimited.</param>
/// <param name="ProxyConnectTimeout">VipProxy <c>proxy_connect_timeout SECS</c>: limit for the forwarder's connect to a real server, independent of the checkers. Default 5 s.</param>
/// <param name="IdleTimeout">VipProxy <c>idle_timeout SECS</c>: close a proxied connection when neither side has sent anything this long. Default: never.</param>
/// <param name="Transparent">VipProxy <c>transparent</c>: connect to real servers from the client's own address (IP_TRANSPARENT), as LVS-NAT does; replies must route back through this host.</param>
/// <param name="MaxConnectionsPerSource">VipProxy <c>maxconn_per_source N</c>: at most N concurrent connections from one client IP. Default: unlimited.</param>
/// <param name="ConnectionRatePerSource">VipProxy <c>conn_rate_per_source N SECS</c>: at most N new connections from one client IP in any SECS seconds. Default: unlimited.</param>
/// <param name="RealServers">The real servers, in configuration order.</param>
/// <param name="TcpKeepalive">VipProxy <c>tcp_keepalive IDLE INTERVAL COUNT</c>: TCP keepalive on both legs of every proxied connection. Null: the kernel's default (off).</param>
/// <param name="WriterConflict">VipProxy <c>writer_conflict refuse|first</c>: what a writer pool (real servers checked by
/// <c>MYSQL_CHECK { role primary }</c>) does when more than one of them reports writable. Default refuse: take none.</param>
public sealed record VirtualServer(
    IPEndPoint Endpoint,
    TimeSpan DelayLoop,
    SchedulingAlgorithm Algorithm,
    TimeSpan? PersistenceTimeout,
    IPAddress PersistenceGranularity,
    IPEndPoint? SorryServer,
    bool SorryServerInhibit,
    bool InhibitOnFailure,
    int Quorum,
    int Hysteresis,
    ScriptCommand? QuorumUp,
    ScriptCommand? QuorumDown,
    bool Alpha,
    bool Omega,
    int? MaxConnections,
    TimeSpan ProxyConnectTimeout,
    TimeSpan? IdleTimeout,
    bool Transparent,
    int? MaxConnectionsPerSource,
    ConnectionRateLimit? ConnectionRatePerSource,
    ValueList<RealServer> RealServers,
    TcpKeepalive? TcpKeepalive = null,
    WriterConflictPolicy WriterConflict = WriterConflictPolicy.Refuse)
{
    /// <summary>keepalived's value for a bare <c>persistence_timeout</c>.</summary>
    public static readonly TimeSpan DefaultPersistenceTimeout = TimeSpan.FromSeconds(360);
}

/// <summary>
/// What a writer pool does when two of its servers report writable at once — a split brain in the database, which
/// must not become a split brain in the data.
/// </summary>
public enum WriterConflictPolicy
{
    /// <summary>Take none of them until only one is writable (the default).</summary>
    Refuse,
    /// <summary>Take the first writable server in configuration order.</summary>
    First,
}

/// <summary><c>real_server IP PORT { … }</c>.</summary>
/// <param name="Weight"><c>weight N</c> (0–65535): share of new connections; 0 drains. Default 1.</param>
/// <param name="InhibitOnFailure"><c>inhibit_on_failure</c>. Default: the virtual server's.</param>
/// <param name="NotifyUp"><c>notify_up "CMD"</c>: run when the server comes up.</param>
/// <param name="NotifyDown"><c>notify_down "CMD"</c>: run when the server goes down.</param>
/// <param name="MaxConnections"><c>uthreshold N</c> or VipProxy <c>maxconn N</c>: no new connections while this many are open. Default: unlimited.</param>
/// <param name="Checkers">The health checkers; the server is up only while all of them pass. None: always up.</param>
/// <param name="SendProxy">VipProxy <c>send_proxy</c> / <c>send_proxy_v2</c> (HAProxy's send-proxy, send-proxy-v2): start each forwarded connection with a PROXY protocol header naming the client. Set on the real_server or inherited from the virtual_server.</param>
/// <param name="CheckSendProxy">VipProxy <c>check_send_proxy</c> (HAProxy's check-send-proxy): health checks also start with the PROXY header. Off by default so real servers that only accept PROXY from the forwarder still see plain checks only when they ask for them.</param>
/// <param name="Backup">VipProxy <c>backup</c> (HAProxy's backup): the server takes new connections only while no non-backup server of the virtual server is up with weight above 0; then the backups share them by the virtual server's lb_algo.</param>
/// <param name="ShutdownSessionsOnDown">VipProxy <c>shutdown_sessions_on_down [GRACE_SECS]</c> on the real_server or
/// inherited from the virtual_server (HAProxy's on-marked-down shutdown-sessions): when the server goes down or an
/// operator disables it, its established connections are closed after GRACE seconds if it is still out, so pooled
/// clients reconnect to the new writer instead of writing to a demoted primary. Null: off (they continue).</param>
/// <param name="SlowStart">VipProxy <c>slowstart SECS</c> (HAProxy's slowstart): after the server comes back up, its
/// weight ramps from 1 to its weight over SECS, so a cold database or cache is not handed a full share at once. Not
/// applied at start-up. Null: off.</param>
public sealed record RealServer(
    IPEndPoint Endpoint,
    int Weight,
    bool InhibitOnFailure,
    ScriptCommand? NotifyUp,
    ScriptCommand? NotifyDown,
    int? MaxConnections,
    ValueList<HealthCheck> Checkers,
    ProxyProtocolVersion SendProxy = ProxyProtocolVersion.None,
    bool CheckSendProxy = false,
    bool Backup = false,
    TimeSpan? SlowStart = null,
    TimeSpan? ShutdownSessionsOnDown = null);

/// <summary>
/// TCP keepalive for the client and real-server sockets: SO_KEEPALIVE with TCP_KEEPIDLE, TCP_KEEPINTVL and
/// TCP_KEEPCNT. Idle pooled connections then keep firewall and NAT state alive, and a peer that vanished without a
/// FIN or RST is detected after <see cref="Idle"/> + <see cref="Count"/> × <see cref="Interval"/>.
/// </summary>
/// <param name="Idle">Idle time before the first probe (whole seconds, 1–32767).</param>
/// <param name="Interval">Time between unanswered probes (whole seconds, 1–32767).</param>
/// <param name="Count">Unanswered probes before the connection is reset (1–127).</param>
public sealed record TcpKeepalive(TimeSpan Idle, TimeSpan Interval, int Count);

/// <summary>At most <paramref name="Connections"/> new connections in any <paramref name="Period"/>.</summary>
public sealed record ConnectionRateLimit(int Connections, TimeSpan Period);
