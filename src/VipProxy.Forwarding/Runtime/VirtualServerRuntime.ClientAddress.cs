using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using VipProxy.Core.ProxyProtocol;
using VipProxy.Forwarding.Listening;
using VipProxy.Forwarding.Relay;

namespace VipProxy.Forwarding.Runtime;

/// <summary>Showing real servers the client's address: <c>transparent</c> connects from it (IP_TRANSPARENT), or a
/// PROXY protocol header (<c>send_proxy</c>, <c>send_proxy_v2</c>) names it.</summary>
public sealed partial class VirtualServerRuntime
{
    /// <summary>1 while the last transparent bind failed and was logged as an error: the same cause repeats for every
    /// client, so later failures log at Debug until a bind succeeds again.</summary>
    private int _transparentFailureLogged;

    /// <summary>
    /// Binds the real-server socket to the client's IP with port 0, as LVS-NAT's real server would see it. The port is
    /// left to the kernel (IP_BIND_ADDRESS_NO_PORT: chosen at connect, unique per 4-tuple) rather than reusing the
    /// client's: the client's own port may be in use towards the same real server from that address (a client
    /// on the LB host, or two virtual servers sharing a real server), and a colliding bind would fail a connection
    /// that LVS could have carried. Aborts the connection (<see cref="CloseReason.TransparentBindFailed"/>) when
    /// the kernel refuses.
    /// </summary>
    private SocketError BindToClientAddress(ProxiedConnection connection, Socket socket)
    {
        IPAddress? client = connection.ClientEndpoint?.Address;
        if (client is null)
        {
            connection.Fail(ConnectionSide.Client, SocketError.NotConnected);
            return SocketError.NotConnected;
        }

        if (client.IsIPv4MappedToIPv6 && socket.AddressFamily == AddressFamily.InterNetwork)
        {
            client = client.MapToIPv4();
        }

        if (client.AddressFamily != socket.AddressFamily)
        {
            TransparentBindFailed(connection, client, SocketError.AddressFamilyNotSupported,
                "the client and the real server use different address families");
            return SocketError.AddressFamilyNotSupported;
        }

        string step = "setsockopt IP_TRANSPARENT";
        try
        {
            ForwarderSocketOptions.EnableTransparent(socket);
            step = "setsockopt IP_BIND_ADDRESS_NO_PORT";
            ForwarderSocketOptions.EnableBindAddressNoPort(socket);
            step = "bind to the client's address";
            socket.Bind(new IPEndPoint(client, 0));
        }
        catch (SocketException error)
        {
            TransparentBindFailed(connection, client, error.SocketErrorCode, step + " refused" + (
                error.SocketErrorCode is SocketError.AccessDenied or SocketError.AddressNotAvailable
                    ? " (the process needs CAP_NET_ADMIN for IP_TRANSPARENT)"
                    : string.Empty));
            return error.SocketErrorCode;
        }
        catch (ObjectDisposedException)
        {
            return SocketError.OperationAborted;
        }

        Volatile.Write(ref _transparentFailureLogged, 0);
        return SocketError.Success;
    }

    private void TransparentBindFailed(ProxiedConnection connection, IPAddress client, SocketError error, string reason)
    {
        LogLevel level = Interlocked.Exchange(ref _transparentFailureLogged, 1) == 0 ? LogLevel.Error : LogLevel.Debug;
        ForwardingLog.TransparentBindFailed(_logger, level, Endpoint, client, error, reason);
        connection.Abort(CloseReason.TransparentBindFailed);
    }

    /// <summary>Writes the PROXY header naming the client and the address it connected to. The socket has just
    /// connected, so its send buffer is empty and the whole header (at most 108 bytes) goes in one call; a header
    /// cut short would corrupt the stream, so that counts as a failed connect.</summary>
    private void SendProxyHeader(ProxiedConnection connection, Socket socket, ProxyProtocolVersion version)
    {
        if (connection.ClientEndpoint is not { } client || VirtualServerAddressOf(connection) is not { } destination)
        {
            // The client vanished right after accept; nothing will be relayed.
            connection.Fail(ConnectionSide.Client, SocketError.NotConnected);
            return;
        }

        Span<byte> header = stackalloc byte[ProxyProtocolHeader.MaxLength];
        int length = ProxyProtocolHeader.Write(header, version, client, destination);
        int sent = socket.Send(header[..length], SocketFlags.None);
        if (sent != length)
        {
            throw new SocketException((int)SocketError.NoBufferSpaceAvailable);
        }
    }

    /// <summary>The address the client connected to: the configured one when it is specific (no system call, no
    /// allocation), else the accepted socket's local address (a wildcard or port-0 listener).</summary>
    private IPEndPoint? VirtualServerAddressOf(ProxiedConnection connection)
    {
        if (Endpoint.Port != 0 && !Endpoint.Address.Equals(IPAddress.Any) && !Endpoint.Address.Equals(IPAddress.IPv6Any))
        {
            return Endpoint;
        }

        try
        {
            return connection.Client.LocalEndPoint as IPEndPoint;
        }
        catch (SocketException)
        {
            return null;
        }
        catch (ObjectDisposedException)
        {
            return null;
        }
    }
}
