namespace VipProxy.Forwarding.Relay;

/// <summary>One of the two byte streams of a proxied connection.</summary>
public enum RelayDirection
{
    /// <summary>Bytes the client sends, forwarded to the real server (upstream).</summary>
    ClientToServer,

    /// <summary>Bytes the real server sends, forwarded to the client (downstream).</summary>
    ServerToClient,
}
