using System.Net.Sockets;

namespace VipProxy.Forwarding.Relay;

/// <summary>
/// The start shared by the relays that drive the descriptors themselves (socket copy, splice): both sockets become
/// non-blocking, so a synchronous receive or splice returns EAGAIN instead of parking a thread, then one pump runs
/// per direction until both directions are done.
/// </summary>
internal static class NonBlockingPumps
{
    public static Task RunAsync(ProxiedConnection connection, Func<ProxiedConnection, RelayDirection, Task> pump)
    {
        ArgumentNullException.ThrowIfNull(connection);
        Socket client = connection.Client;
        Socket server = connection.RealServer ?? throw new InvalidOperationException("Not connected.");
        try
        {
            client.Blocking = false;
            server.Blocking = false;
        }
        catch (ObjectDisposedException)
        {
            return Task.CompletedTask;
        }
        catch (SocketException error)
        {
            connection.Fail(ConnectionSide.Client, error.SocketErrorCode);
            return Task.CompletedTask;
        }

        return Task.WhenAll(pump(connection, RelayDirection.ClientToServer), pump(connection, RelayDirection.ServerToClient));
    }
}
