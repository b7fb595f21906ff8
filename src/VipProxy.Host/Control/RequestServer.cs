using System.Net.Sockets;

namespace VipProxy.Host.Control;

/// <summary>
/// The accept loop shared by the node's small request/response servers (control socket, metrics endpoint):
/// each accepted client is served on its own with a bounded time, and the loop ends when the listener closes.
/// </summary>
internal static class RequestServer
{
    public static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(5);

    public static async Task AcceptLoopAsync(Socket listener, Func<Socket, CancellationToken, Task> serve, CancellationToken cancellation)
    {
        while (!cancellation.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await listener.AcceptAsync(cancellation).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }

            _ = ServeOneAsync(client, serve, cancellation);
        }
    }

    private static async Task ServeOneAsync(Socket client, Func<Socket, CancellationToken, Task> serve, CancellationToken cancellation)
    {
        using (client)
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
            timeout.CancelAfter(RequestTimeout);
            await serve(client, timeout.Token).ConfigureAwait(false);
        }
    }
}
