using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using VipProxy.Forwarding.Loop;

namespace VipProxy.Forwarding.Runtime;

/// <summary>Showing real servers the client's address: <c>transparent</c> connects from it (IP_TRANSPARENT, done by
/// <see cref="LoopConnection"/>), or a PROXY protocol header (<c>send_proxy</c>, <c>send_proxy_v2</c>) names it.</summary>
public sealed partial class VirtualServerRuntime
{
    /// <summary>1 while the last transparent bind failed and was logged as an error: the same cause repeats for every
    /// client, so later failures log at Debug until a bind succeeds again.</summary>
    private int _transparentFailureLogged;

    internal void TransparentBindFailed(IPAddress client, SocketError error, string reason)
    {
        LogLevel level = Interlocked.Exchange(ref _transparentFailureLogged, 1) == 0 ? LogLevel.Error : LogLevel.Debug;
        ForwardingLog.TransparentBindFailed(_logger, level, Endpoint, client, error, reason);
    }

    internal void TransparentBindSucceeded()
    {
        if (Volatile.Read(ref _transparentFailureLogged) != 0)
        {
            Volatile.Write(ref _transparentFailureLogged, 0);
        }
    }

    /// <summary>The address the client connected to, for the PROXY header: the configured one when it is specific (no
    /// system call, no allocation), else the accepted socket's local address (a wildcard or port-0 listener).</summary>
    internal IPEndPoint? VirtualServerAddressOf(ILoopKernel kernel, int clientFd)
    {
        if (Endpoint.Port != 0 && !Endpoint.Address.Equals(IPAddress.Any) && !Endpoint.Address.Equals(IPAddress.IPv6Any))
        {
            return Endpoint;
        }

        return kernel.LocalAddress(clientFd, out SocketAddressBuffer local) >= 0 ? local.ToEndPoint() : null;
    }
}
