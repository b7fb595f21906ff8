using System.Net;
using System.Net.Sockets;
using VipProxy.Forwarding.Scheduling;

namespace VipProxy.Forwarding.Relay;

/// <summary>
/// The state of one proxied connection: its two sockets, byte counters, last activity, and the single close reason.
/// </summary>
/// <remarks>
/// <para>Lock-free by construction. Each byte counter has exactly one writer (the relay loop of its direction), so it
/// is a plain field published with <see cref="Volatile"/>; readers (status, idle sweep) may see a value a moment old.
/// The close reason is decided with compare-and-swap, so however many threads observe errors at once, one wins.</para>
/// <para>Close reason rules: an abortive event (reset, socket error, idle timeout, shutdown, refusal) wins and is
/// final; otherwise the connection ended gracefully and the reason names the side whose FIN came first.</para>
/// </remarks>
public sealed class ProxiedConnection
{
    private const int NoReason = -1;
    private const int NoFin = 0;
    private const int ClientFin = 1;
    private const int ServerFin = 2;

    private long _receivedFromClient;
    private long _sentToServer;
    private long _receivedFromServer;
    private long _sentToClient;
    private long _lastActivityTick;
    private int _abortReason = NoReason;
    private int _firstFin = NoFin;
    private int _finMask;
    private int _relaying;
    private Socket? _realServer;
    private ConnectionCounters? _serverCounters;

    /// <summary>Creates the state for an accepted client socket.</summary>
    public ProxiedConnection(long id, Socket client)
    {
        ArgumentNullException.ThrowIfNull(client);
        Id = id;
        Client = client;
        ClientEndpoint = TryGetRemote(client);
        StartedTick = Environment.TickCount64;
        _lastActivityTick = StartedTick;
    }

    /// <summary>Identifier unique within the process run.</summary>
    public long Id { get; }

    /// <summary>The accepted client socket.</summary>
    public Socket Client { get; }

    /// <summary>The client's address and port (null if the client vanished before it could be read).</summary>
    public IPEndPoint? ClientEndpoint { get; }

    /// <summary>The socket to the real server, once a connect was started.</summary>
    public Socket? RealServer => Volatile.Read(ref _realServer);

    /// <summary>The real server this connection was forwarded to (null until connected).</summary>
    public IPEndPoint? RealServerEndpoint { get; private set; }

    /// <summary><see cref="Environment.TickCount64"/> at accept.</summary>
    public long StartedTick { get; }

    /// <summary><see cref="Environment.TickCount64"/> of the last read from either side (or of accept).</summary>
    public long LastActivityTick => Volatile.Read(ref _lastActivityTick);

    /// <summary>True once both sockets are connected and the relay runs (idle timeouts apply only then).</summary>
    public bool IsRelaying => Volatile.Read(ref _relaying) != 0;

    /// <summary>True once an abortive close reason was recorded (sockets are being reset).</summary>
    public bool IsAborted => Volatile.Read(ref _abortReason) != NoReason;

    /// <summary>True once either side sent its FIN.</summary>
    public bool IsHalfClosed => Volatile.Read(ref _firstFin) != NoFin;

    /// <summary>Bytes read from the client.</summary>
    public long BytesFromClient => Volatile.Read(ref _receivedFromClient);

    /// <summary>Bytes written to the real server.</summary>
    public long BytesToServer => Volatile.Read(ref _sentToServer);

    /// <summary>Bytes read from the real server.</summary>
    public long BytesFromServer => Volatile.Read(ref _receivedFromServer);

    /// <summary>Bytes written to the client.</summary>
    public long BytesToClient => Volatile.Read(ref _sentToClient);

    /// <summary>Bytes read but not yet written on, both directions: the memory this connection holds in the
    /// proxy's buffers. Bounded by the relay's buffer/pipe size.</summary>
    public long BufferedBytes => BytesFromClient - BytesToServer + (BytesFromServer - BytesToClient);

    /// <summary>The socket a direction reads from.</summary>
    public Socket SourceOf(RelayDirection direction) =>
        direction == RelayDirection.ClientToServer ? Client : RealServer ?? throw NotConnected();

    /// <summary>The socket a direction writes to.</summary>
    public Socket DestinationOf(RelayDirection direction) =>
        direction == RelayDirection.ClientToServer ? RealServer ?? throw NotConnected() : Client;

    /// <summary>The side a direction reads from.</summary>
    public static ConnectionSide SourceSideOf(RelayDirection direction) =>
        direction == RelayDirection.ClientToServer ? ConnectionSide.Client : ConnectionSide.RealServer;

    /// <summary>The side a direction writes to.</summary>
    public static ConnectionSide DestinationSideOf(RelayDirection direction) =>
        direction == RelayDirection.ClientToServer ? ConnectionSide.RealServer : ConnectionSide.Client;

    /// <summary>Records <paramref name="count"/> bytes read; called only by the relay loop of that direction.</summary>
    public void Received(RelayDirection direction, int count)
    {
        if (direction == RelayDirection.ClientToServer)
        {
            Volatile.Write(ref _receivedFromClient, _receivedFromClient + count);
        }
        else
        {
            Volatile.Write(ref _receivedFromServer, _receivedFromServer + count);
        }

        // One plain store per read: the idle sweep compares it, no timer is touched on the hot path.
        Volatile.Write(ref _lastActivityTick, Environment.TickCount64);
    }

    /// <summary>Records <paramref name="count"/> bytes written; called only by the relay loop of that direction.</summary>
    public void Sent(RelayDirection direction, int count)
    {
        if (direction == RelayDirection.ClientToServer)
        {
            Volatile.Write(ref _sentToServer, _sentToServer + count);
        }
        else
        {
            Volatile.Write(ref _sentToClient, _sentToClient + count);
        }
    }

    /// <summary>
    /// The source of <paramref name="direction"/> sent FIN and everything before it was written on: pass the FIN on
    /// as a half-close (shutdown of sending) of the destination; the opposite direction keeps flowing.
    /// </summary>
    public void EndOfStream(RelayDirection direction)
    {
        if (IsAborted)
        {
            return;
        }

        int fin = direction == RelayDirection.ClientToServer ? ClientFin : ServerFin;
        if (Interlocked.CompareExchange(ref _firstFin, fin, NoFin) == NoFin)
        {
            // LVS counts a connection as "inactive" once it is closing.
            _serverCounters?.ConnectionBecameInactive();
        }

        Interlocked.Or(ref _finMask, fin);
        try
        {
            DestinationOf(direction).Shutdown(SocketShutdown.Send);
        }
        catch (SocketException error)
        {
            // The destination is already gone (reset under us); the other direction reports how.
            Fail(DestinationSideOf(direction), error.SocketErrorCode);
        }
        catch (ObjectDisposedException)
        {
            // Aborted concurrently; the abort recorded the reason.
        }
    }

    /// <summary>A socket operation on <paramref name="side"/>'s socket failed: record why and reset both sides.</summary>
    public void Fail(ConnectionSide side, SocketError error)
    {
        if (SocketErrors.IsLocalAbort(error) && IsAborted)
        {
            return;
        }

        CloseReason reason = (side, SocketErrors.IsReset(error)) switch
        {
            (ConnectionSide.Client, true) => CloseReason.ClientReset,
            (ConnectionSide.Client, false) => CloseReason.ClientError,
            (_, true) => CloseReason.RealServerReset,
            _ => CloseReason.RealServerError,
        };
        Abort(reason);
    }

    /// <summary>
    /// Ends the connection abortively: records <paramref name="reason"/> unless a reason was already recorded, and
    /// resets both sockets (SO_LINGER 0, then close, so the peers see RST rather than a clean FIN). Thread-safe;
    /// pending relay operations complete with an abort error, which is ignored.
    /// </summary>
    public void Abort(CloseReason reason)
    {
        if (Interlocked.CompareExchange(ref _abortReason, (int)reason, NoReason) != NoReason)
        {
            return;
        }

        Reset(Client);
        Reset(RealServer);
    }

    /// <summary>The recorded close reason, or null while the connection is still open and not aborted.</summary>
    public CloseReason? RecordedCloseReason
    {
        get
        {
            int abort = Volatile.Read(ref _abortReason);
            if (abort != NoReason)
            {
                return (CloseReason)abort;
            }

            if (Volatile.Read(ref _finMask) == (ClientFin | ServerFin))
            {
                return Volatile.Read(ref _firstFin) == ClientFin
                    ? CloseReason.ClientClosed
                    : CloseReason.RealServerClosed;
            }

            return null;
        }
    }

    /// <summary>Binds the connection to the socket being connected to a real server (before the connect, so an
    /// abort also cancels the connect).</summary>
    internal void AttachRealServer(Socket socket)
    {
        Interlocked.Exchange(ref _realServer, socket);
        if (IsAborted)
        {
            Reset(socket);
        }
    }

    /// <summary>The connect succeeded: the relay may start.</summary>
    internal void MarkRelaying(IPEndPoint endpoint, ConnectionCounters counters)
    {
        RealServerEndpoint = endpoint;
        _serverCounters = counters;
        Volatile.Write(ref _lastActivityTick, Environment.TickCount64);
        Volatile.Write(ref _relaying, 1);
    }

    /// <summary>
    /// Called once both relay directions stopped: decides the final reason (a relay that stopped without either an
    /// abort or two FINs is treated as a proxy shutdown) and closes both sockets.
    /// </summary>
    internal CloseReason Finish()
    {
        CloseReason reason = RecordedCloseReason ?? CloseReason.Shutdown;
        if (RecordedCloseReason is null)
        {
            Abort(reason);
        }

        Client.Dispose();
        RealServer?.Dispose();
        return reason;
    }

    /// <summary>Discards the real server socket of a failed connect attempt, keeping the client.</summary>
    internal void DetachRealServer()
    {
        Socket? socket = Interlocked.Exchange(ref _realServer, null);
        socket?.Dispose();
    }

    private static void Reset(Socket? socket)
    {
        if (socket is null)
        {
            return;
        }

        try
        {
            socket.LingerState = new LingerOption(true, 0);
        }
        catch (SocketException)
        {
            // Not connected (e.g. the connect is still in progress): a plain close is all that is possible.
        }
        catch (ObjectDisposedException)
        {
            return;
        }

        socket.Dispose();
    }

    private static IPEndPoint? TryGetRemote(Socket socket)
    {
        try
        {
            return socket.RemoteEndPoint as IPEndPoint;
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

    private static InvalidOperationException NotConnected() =>
        new("The connection has no real server socket yet.");
}
