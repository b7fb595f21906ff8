using System.Net;
using System.Net.Sockets;

namespace VipProxy.TestServers;

/// <summary>
/// A black hole: accepts TCP connections and never sends a byte (a hung database, a stuck proxy). Accepted
/// connections are held open until disposal.
/// </summary>
public sealed class SilentTcpServer : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly List<Socket> _accepted = [];
    private readonly Lock _gate = new();
    private readonly Task _acceptLoop;

    public SilentTcpServer(IPAddress? address = null)
    {
        _listener = new TcpListener(address ?? IPAddress.Loopback, 0);
        _listener.Start();
        _acceptLoop = AcceptAsync();
    }

    public IPEndPoint EndPoint => (IPEndPoint)_listener.LocalEndpoint;

    public int AcceptedCount
    {
        get
        {
            lock (_gate)
            {
                return _accepted.Count;
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        _listener.Stop();
        try
        {
            await _acceptLoop.ConfigureAwait(false);
        }
        catch (SocketException)
        {
        }
        catch (ObjectDisposedException)
        {
        }

        lock (_gate)
        {
            foreach (Socket socket in _accepted)
            {
                socket.Dispose();
            }
        }
    }

    private async Task AcceptAsync()
    {
        while (true)
        {
            Socket socket = await _listener.AcceptSocketAsync().ConfigureAwait(false);
            lock (_gate)
            {
                _accepted.Add(socket);
            }
        }
    }
}
