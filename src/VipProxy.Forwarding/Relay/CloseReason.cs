namespace VipProxy.Forwarding.Relay;

/// <summary>Why a proxied connection ended. Exactly one reason is recorded per connection.</summary>
public enum CloseReason
{
    /// <summary>Both sides closed gracefully and the client sent its FIN first.</summary>
    ClientClosed,

    /// <summary>Both sides closed gracefully and the real server sent its FIN first.</summary>
    RealServerClosed,

    /// <summary>The client reset the connection (ECONNRESET/EPIPE); the real server side was reset in turn.</summary>
    ClientReset,

    /// <summary>The real server reset the connection; the client side was reset in turn.</summary>
    RealServerReset,

    /// <summary>Another socket error on the client side (for example ETIMEDOUT from TCP retransmissions).</summary>
    ClientError,

    /// <summary>Another socket error on the real server side.</summary>
    RealServerError,

    /// <summary>Neither side sent anything for the virtual server's <c>idle_timeout</c>.</summary>
    IdleTimeout,

    /// <summary>Every connect attempt to a real server was refused or failed.</summary>
    ConnectFailed,

    /// <summary>The last connect attempt exceeded <c>proxy_connect_timeout</c>.</summary>
    ConnectTimeout,

    /// <summary>No real server is up and there is no sorry server.</summary>
    NoRealServer,

    /// <summary>The virtual server's <c>maxconn</c> was reached; the client was closed at once.</summary>
    VirtualServerFull,

    /// <summary>Every usable real server is at its <c>maxconn</c>/<c>uthreshold</c>; the client was closed at once.</summary>
    RealServerFull,

    /// <summary>The client's IP already had <c>maxconn_per_source</c> connections open; the client was closed at once.</summary>
    SourceLimit,

    /// <summary>The client's IP opened connections faster than <c>conn_rate_per_source</c>; the client was closed at once.</summary>
    SourceRateLimit,

    /// <summary>A <c>transparent</c> virtual server could not connect from the client's address: the kernel refused
    /// IP_TRANSPARENT or the bind to the client's IP (missing CAP_NET_ADMIN, or a client of another address family
    /// than the real server). A problem of this host, so the real server is not held against it.</summary>
    TransparentBindFailed,

    /// <summary>The proxy closed the connection: shutdown, or a drain that ran out of time.</summary>
    Shutdown,

    /// <summary>An operator closed this connection by its id (<c>vipproxy connections kill</c>).</summary>
    OperatorClosed,

    /// <summary>The connection's real server had its sessions shut down (operator shutdown-sessions, or
    /// <c>shutdown_sessions_on_down</c>).</summary>
    SessionsShutdown,

    /// <summary>The proxy could not serve the connection: out of descriptors or memory, or an internal error in its
    /// handling (logged and counted; other connections are not affected).</summary>
    ProxyError,
}

/// <summary>Which party caused a <see cref="CloseReason"/>.</summary>
public enum ConnectionSide
{
    /// <summary>The client (downstream).</summary>
    Client,

    /// <summary>The real server (upstream), including failed connects to it.</summary>
    RealServer,

    /// <summary>The proxy itself: limits, timeouts, scheduling, shutdown.</summary>
    Proxy,
}

/// <summary>Maps a <see cref="CloseReason"/> to the side that caused it.</summary>
public static class CloseReasonSides
{
    /// <summary>The side that caused <paramref name="reason"/>.</summary>
    public static ConnectionSide SideOf(this CloseReason reason) => reason switch
    {
        CloseReason.ClientClosed or CloseReason.ClientReset or CloseReason.ClientError => ConnectionSide.Client,
        CloseReason.RealServerClosed or CloseReason.RealServerReset or CloseReason.RealServerError
            or CloseReason.ConnectFailed or CloseReason.ConnectTimeout => ConnectionSide.RealServer,
        _ => ConnectionSide.Proxy,
    };

    /// <summary>Number of <see cref="CloseReason"/> values, for counter arrays indexed by reason. Derived from the
    /// enum (its values are 0…N-1), so a reason added anywhere is counted.</summary>
    public static readonly int Count = Enum.GetValues<CloseReason>().Length;
}
