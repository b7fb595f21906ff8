using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace VipProxy.Forwarding.Tests.Support;

/// <summary>A real server on a loopback address: runs its behaviour for each accepted socket.</summary>
internal sealed class LoopbackServer : IAsyncDisposable
{
    private readonly Socket _listener;
    private readonly Func<Socket, Task> _behaviour;
    private readonly ConcurrentBag<Socket> _accepted = [];
    private readonly ConcurrentBag<Task> _handlers = [];
    private readonly Task _acceptLoop;
    private int _acceptCount;

    public LoopbackServer(Func<Socket, Task> behaviour, string address = "127.0.0.1", int port = 0)
    {
        _behaviour = behaviour;
        IPAddress bindTo = IPAddress.Parse(address);
        _listener = new Socket(bindTo.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        _listener.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        _listener.Bind(new IPEndPoint(bindTo, port));
        _listener.Listen(512);
        Endpoint = (IPEndPoint)_listener.LocalEndPoint!;
        _acceptLoop = AcceptLoopAsync();
    }

    public IPEndPoint Endpoint { get; }

    public int AcceptCount => Volatile.Read(ref _acceptCount);

    /// <summary>Sockets accepted so far (server side of each proxied connection).</summary>
    public IReadOnlyCollection<Socket> Accepted => _accepted;

    /// <summary>A server that sends "<paramref name="name"/>\n" on accept, then echoes until EOF, then closes.</summary>
    public static LoopbackServer IdEcho(string name, string address = "127.0.0.1", int port = 0) =>
        new(socket => IdEchoAsync(socket, name), address, port);

    /// <summary>Stops listening: new connects are refused (the port is closed).</summary>
    public void StopListening() => _listener.Dispose();

    public async ValueTask DisposeAsync()
    {
        _listener.Dispose();
        foreach (Socket socket in _accepted)
        {
            socket.Dispose();
        }

        await _acceptLoop.ConfigureAwait(false);
        await Task.WhenAll(_handlers).WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
    }

    public static async Task IdEchoAsync(Socket socket, string name)
    {
        await socket.SendAsync(Encoding.ASCII.GetBytes(name + "\n"));
        await EchoAsync(socket);
    }

    /// <summary>Echoes until EOF, then half-closes.</summary>
    public static async Task EchoAsync(Socket socket)
    {
        var buffer = new byte[16 * 1024];
        while (true)
        {
            int read = await socket.ReceiveAsync(buffer);
            if (read == 0)
            {
                break;
            }

            await socket.SendAsync(buffer.AsMemory(0, read));
        }

        socket.Shutdown(SocketShutdown.Send);
    }

    private async Task AcceptLoopAsync()
    {
        while (true)
        {
            Socket socket;
            try
            {
                socket = await _listener.AcceptAsync();
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                return;
            }

            Interlocked.Increment(ref _acceptCount);
            _accepted.Add(socket);
            _handlers.Add(RunAsync(socket));
        }
    }

    private async Task RunAsync(Socket socket)
    {
        try
        {
            await _behaviour(socket);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or OperationCanceledException)
        {
            // The test decides what a failure means; the server just stops.
        }
    }
}
