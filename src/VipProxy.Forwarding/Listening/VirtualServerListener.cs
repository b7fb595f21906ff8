using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using VipProxy.Forwarding.Runtime;

namespace VipProxy.Forwarding.Listening;

/// <summary>
/// Accepts client connections on a virtual server's address and hands each to a callback. Stopping closes only the
/// listening socket: accepted connections belong to the callback and are not touched (reload and drain need that).
/// </summary>
public sealed class VirtualServerListener : IAsyncDisposable
{
    /// <summary>Pause after an accept error that is not about one client (e.g. EMFILE), so the loop cannot spin.</summary>
    private static readonly TimeSpan AcceptErrorBackoff = TimeSpan.FromMilliseconds(100);

    private readonly Action<Socket> _onAccepted;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop = new();
    private Socket? _socket;
    private Task _acceptLoop = Task.CompletedTask;

    /// <summary>Creates a listener; nothing is bound until <see cref="Start"/>.</summary>
    /// <param name="endpoint">Address and port; port 0 picks a free port (tests).</param>
    /// <param name="backlog">listen(2) backlog.</param>
    /// <param name="onAccepted">Takes ownership of each accepted socket. Must return quickly (start work, not do it).</param>
    /// <param name="logger">Logger.</param>
    public VirtualServerListener(IPEndPoint endpoint, int backlog, Action<Socket> onAccepted, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        ArgumentNullException.ThrowIfNull(onAccepted);
        ArgumentNullException.ThrowIfNull(logger);
        ArgumentOutOfRangeException.ThrowIfLessThan(backlog, 1);
        Endpoint = endpoint;
        Backlog = backlog;
        _onAccepted = onAccepted;
        _logger = logger;
    }

    /// <summary>The configured address.</summary>
    public IPEndPoint Endpoint { get; }

    /// <summary>listen(2) backlog.</summary>
    public int Backlog { get; }

    /// <summary>The bound address (with the real port when <see cref="Endpoint"/> had port 0); null before start.</summary>
    public IPEndPoint? LocalEndpoint { get; private set; }

    /// <summary>True between <see cref="Start"/> and <see cref="StopAsync"/>.</summary>
    public bool IsAccepting => _socket is not null && !_stop.IsCancellationRequested;

    /// <summary>Binds (see <see cref="ListenerSocket.Bind"/>) and starts the accept loop.</summary>
    public void Start()
    {
        ObjectDisposedException.ThrowIf(_stop.IsCancellationRequested, this);
        if (_socket is not null)
        {
            throw new InvalidOperationException("The listener is already started.");
        }

        _socket = ListenerSocket.Bind(Endpoint, Backlog);
        LocalEndpoint = (IPEndPoint)_socket.LocalEndPoint!;
        ForwardingLog.Listening(_logger, Endpoint, LocalEndpoint);
        _acceptLoop = AcceptLoopAsync(_socket);
    }

    /// <summary>Stops accepting new clients and closes the listening socket; established connections continue.
    /// Clients still in the kernel's accept queue are reset by the kernel.</summary>
    public async Task StopAsync()
    {
        if (_stop.IsCancellationRequested)
        {
            await _acceptLoop.ConfigureAwait(false);
            return;
        }

        await _stop.CancelAsync().ConfigureAwait(false);
        _socket?.Dispose();
        await _acceptLoop.ConfigureAwait(false);
        if (_socket is not null)
        {
            ForwardingLog.StoppedListening(_logger, Endpoint);
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        _stop.Dispose();
    }

    private async Task AcceptLoopAsync(Socket listener)
    {
        // Leave the caller's thread before the first accept.
        await Task.Yield();
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await listener.AcceptAsync(_stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (ObjectDisposedException)
            {
                return;
            }
            catch (SocketException error) when (error.SocketErrorCode is SocketError.OperationAborted or SocketError.Interrupted)
            {
                return;
            }
            catch (SocketException error) when (error.SocketErrorCode is SocketError.ConnectionAborted or SocketError.ConnectionReset)
            {
                // One client gave up while queued; nothing to do for the others.
                continue;
            }
            catch (SocketException error)
            {
                // Resource exhaustion (EMFILE/ENFILE/ENOBUFS): back off instead of spinning, then retry.
                ForwardingLog.AcceptFailed(_logger, Endpoint, error.SocketErrorCode, error);
                try
                {
                    await Task.Delay(AcceptErrorBackoff, _stop.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                continue;
            }

            _onAccepted(client);
        }
    }
}
