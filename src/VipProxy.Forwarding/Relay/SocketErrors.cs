using System.Net.Sockets;

namespace VipProxy.Forwarding.Relay;

/// <summary>Classifies socket errors seen on the data path.</summary>
internal static class SocketErrors
{
    /// <summary>
    /// True for errors that mean the peer reset the connection: ECONNRESET on receive, and EPIPE
    /// (<see cref="SocketError.Shutdown"/>) or ECONNABORTED on send once the peer's RST has arrived.
    /// </summary>
    public static bool IsReset(SocketError error) =>
        error is SocketError.ConnectionReset or SocketError.ConnectionAborted or SocketError.Shutdown;

    /// <summary>True for errors that only mean the socket was closed by this process (an abort).</summary>
    public static bool IsLocalAbort(SocketError error) =>
        error is SocketError.OperationAborted or SocketError.Interrupted;
}
