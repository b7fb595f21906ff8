using System.Net;
using System.Net.Sockets;

namespace VipProxy.Forwarding.Runtime;

/// <summary>
/// Told when the forwarder's own connect to a real server fails, so health checking can treat the server as suspect
/// (check it now, or mark it down) instead of waiting for the next <c>delay_loop</c>. The client that hit the failure
/// has already been redispatched to another real server.
/// </summary>
/// <remarks>Called on the data path: implementations must return quickly and must not throw.</remarks>
public interface IRealServerFailureSink
{
    /// <summary>A connect from <paramref name="virtualServer"/> to <paramref name="realServer"/> failed with
    /// <paramref name="error"/> (<see cref="SocketError.TimedOut"/> for <c>proxy_connect_timeout</c>).</summary>
    void ConnectFailed(IPEndPoint virtualServer, IPEndPoint realServer, SocketError error);
}

/// <summary>A sink that ignores failures.</summary>
public sealed class NullRealServerFailureSink : IRealServerFailureSink
{
    /// <summary>The shared instance.</summary>
    public static NullRealServerFailureSink Instance { get; } = new();

    /// <inheritdoc />
    public void ConnectFailed(IPEndPoint virtualServer, IPEndPoint realServer, SocketError error)
    {
    }
}
