using System.Net;
using System.Net.Sockets;
using VipProxy.Config.Model;
using VipProxy.Forwarding.Admission;
using VipProxy.Forwarding.Persistence;
using VipProxy.Core.ProxyProtocol;
using VipProxy.Forwarding.Relay;
using VipProxy.Forwarding.Runtime;
using VipProxy.Forwarding.Scheduling;

namespace VipProxy.Forwarding.Loop;

/// <summary>
/// One proxied connection, from accept to close, on one loop: admission, the connect to a real server (with
/// redispatch), the relay both ways, its timers, and its single close reason. Touched only on its loop's thread,
/// so it has no locks and no volatile state.
/// </summary>
/// <remarks>
/// <para>Relay, per direction (source → destination):</para>
/// <list type="bullet">
/// <item>Readiness comes from edge-triggered epoll: an edge sets "source readable" / "destination writable"; a read
/// that returns less than asked clears "readable" (a stream socket returning less is drained: the next arrival is a
/// new edge), so a small message costs one recv and one send, no probe read. EAGAIN clears it too. EPOLLRDHUP
/// marks a pending FIN, so a short read that precedes it does not end the burst early.</item>
/// <item>Copy path: recv into the loop's scratch buffer and send it on at once. Only when the destination does not
/// take everything does the connection keep the bytes, by keeping that buffer (the loop rents a new scratch buffer):
/// no extra copy, and a buffer is held exactly while bytes wait. While bytes wait, the source is not read: a blocked
/// destination pauses its source, and a direction never holds more than one buffer.</item>
/// <item>Bulk: a read that fills the buffer switches the direction to splice(2) through a pooled kernel pipe (socket
/// → pipe → socket), read until EAGAIN; the pipe goes back to the pool, empty, when the source is drained, and a
/// burst shorter than one copy buffer switches the direction back to copying. The pipe holds at most its capacity:
/// that is the bound in bulk mode.</item>
/// <item>FIN (read returns 0, with every earlier byte already written on): shutdown(SHUT_WR) of the destination, the
/// other direction keeps flowing. Both FINs passed on: a graceful close. Any error: both sides are reset (SO_LINGER
/// 0 + close) and the reason names the side whose call failed.</item>
/// <item>Fairness: a pump moves at most <see cref="RoundBudget"/> reads per call, then yields to the loop's ready
/// list, so one bulk connection cannot starve the others.</item>
/// </list>
/// <para>Connect: non-blocking connect, completion by EPOLLOUT (SO_ERROR is read when EPOLLERR/EPOLLHUP report a
/// failure), timeout from the loop's timer wheel. Each attempt's descriptor is registered with its own attempt
/// number in the epoll token, so an event still queued for the socket of a failed attempt never completes the
/// next one.</para>
/// </remarks>
internal sealed unsafe class LoopConnection : IReadyWork, ILoopTimerTarget
{
    public const int ClientKind = 1;
    public const int ServerKind = 2;

    /// <summary>Reads per pump call before the connection yields to others.</summary>
    private const int RoundBudget = 16;

    private const int Pending = int.MinValue;
    private const int Aborted = -1;

    private const uint Readable = LinuxConstants.EpollIn | LinuxConstants.EpollRdHup | LinuxConstants.EpollHup | LinuxConstants.EpollErr;
    private const uint PeerShutdown = LinuxConstants.EpollRdHup | LinuxConstants.EpollHup;
    private const uint Writable = LinuxConstants.EpollOut | LinuxConstants.EpollHup | LinuxConstants.EpollErr;

    private enum Phase
    {
        Connecting,
        Relaying,
        Closed,
    }

    /// <summary>The state of one byte stream.</summary>
    private struct Direction
    {
        public byte* Buffer;
        public int Offset;
        public int Count;
        public KernelPipe Pipe;
        public int PipePending;
        public long Burst;
        public bool Bulk;
        public bool SourceReadable;
        public bool SourceHup;
        public bool DestinationWritable;
        public bool Ended;
        public long Received;
        public long Sent;
    }

    private readonly LoopVirtualServer _binding;
    private readonly EventLoop _loop;
    private readonly VirtualServerRuntime _runtime;
    private readonly LoopTimer _timer;
    private Direction _up;
    private Direction _down;
    private Phase _phase = Phase.Connecting;
    private int _slot = -1;
    private int _clientFd;
    private int _serverFd = -1;
    private int _attempt;
    private bool _readyQueued;
    private CloseReason? _abortReason;
    private RelayDirection? _firstFin;
    private bool _admitted;
    private SourceLease _sourceLease;

    // Connect attempts (redispatch).
    private RealServerSnapshot? _attemptServer;
    private PersistenceTable? _attemptTable;
    private PersistenceLease _attemptLease;
    private bool _attemptIsSorry;
    private bool _sorryTried;
    private int _attempts;
    private SocketError _lastError;
    private RealServerSnapshot[]? _tried;
    private int _triedCount;
    private ProxyProtocolVersion _sendProxy;
    private long _connectStarted;

    // Where the connection was forwarded.
    private PersistenceTable? _table;
    private PersistenceLease _lease;

    public LoopConnection(LoopVirtualServer binding, long id, int clientFd, IPEndPoint? client)
    {
        _binding = binding;
        _loop = binding.Loop;
        _runtime = binding.Runtime;
        _timer = new LoopTimer(this);
        Id = id;
        _clientFd = clientFd;
        ClientEndpoint = client;
        StartedTick = _loop.Now;
        LastActivityTick = StartedTick;
        _up.DestinationWritable = true;
        _down.DestinationWritable = true;
        _up.Pipe = KernelPipe.None;
        _down.Pipe = KernelPipe.None;
    }

    public long Id { get; }

    public VirtualServerRuntime Runtime => _runtime;

    /// <summary>The loop this connection lives on.</summary>
    public int LoopIndex => _loop.Index;

    public EventLoop Loop => _loop;

    public IPEndPoint? ClientEndpoint { get; }

    /// <summary>The server the connection was forwarded to (null while connecting).</summary>
    public RealServerSnapshot? Server { get; private set; }

    public long StartedTick { get; }

    public long LastActivityTick { get; private set; }

    public bool IsRelaying => _phase == Phase.Relaying;

    public bool IsClosed => _phase == Phase.Closed;

    /// <summary>Bytes read from either side and not yet written to the other: what the proxy holds now.</summary>
    public long BufferedBytes => _up.Received - _up.Sent + (_down.Received - _down.Sent);

    /// <summary>True when this connection holds a relay buffer or a pipe (for the idle-memory tests).</summary>
    public bool HoldsBuffer => _up.Buffer != null || _down.Buffer != null || _up.Pipe.IsValid || _down.Pipe.IsValid;

    /// <summary>A status row.</summary>
    public ConnectionStatus Describe(long now) => new(
        Id,
        ClientEndpoint,
        Server?.Endpoint,
        _up.Received,
        _up.Sent,
        _down.Received,
        _down.Sent,
        BufferedBytes,
        TimeSpan.FromMilliseconds(now - StartedTick),
        TimeSpan.FromMilliseconds(now - LastActivityTick),
        _firstFin is not null)
    {
        VirtualServer = _runtime.LocalEndpoint ?? _runtime.Endpoint,
    };

    /// <summary>The client's descriptor (for inspection on the loop thread).</summary>
    public int ClientDescriptor => _clientFd;

    /// <summary>The real server's descriptor, or -1 while there is none (for inspection on the loop thread).</summary>
    public int ServerDescriptor => _serverFd;

    /// <summary>On the loop, right after accept: admission, then the first connect attempt.</summary>
    public void Start(DispatchSnapshot snapshot)
    {
        _slot = _loop.Register(this);
        _binding.ConnectionStarted();
        if (_runtime.TryAdmitSource(ClientEndpoint, snapshot, out _sourceLease) is CloseReason refusal)
        {
            Abort(refusal);
            return;
        }

        if (!_runtime.TryAdmit(snapshot.Config.MaxConnections ?? 0))
        {
            Abort(CloseReason.VirtualServerFull);
            return;
        }

        _admitted = true;
        SetKeepalive(_loop.Kernel, _clientFd, snapshot.Config.TcpKeepalive);
        int watched = _loop.Watch(_clientFd, _slot, ClientKind);
        if (watched < 0)
        {
            Abort(CloseReason.ProxyError);
            return;
        }

        NextAttempt();
    }

    public void OnEvents(int kind, int attempt, uint events)
    {
        if (_phase == Phase.Closed)
        {
            return;
        }

        if (kind == ClientKind)
        {
            if ((events & Readable) != 0)
            {
                _up.SourceReadable = true;
                _up.SourceHup |= (events & PeerShutdown) != 0;
            }

            if ((events & Writable) != 0)
            {
                _down.DestinationWritable = true;
            }

            if (_phase == Phase.Relaying)
            {
                if ((events & LinuxConstants.EpollErr) != 0 && _up.Ended)
                {
                    FailFromPendingError(_clientFd, ConnectionSide.Client);
                }

                PumpBoth(first: RelayDirection.ClientToServer);
            }

            // While connecting, client bytes (and a client FIN) wait: they are read once the real server is there,
            // after the PROXY header.
            return;
        }

        if (attempt != (_attempt & 0x3F))
        {
            return; // the socket of an earlier connect attempt, already closed
        }

        if (_phase == Phase.Connecting)
        {
            if ((events & Writable) != 0)
            {
                CompleteConnect(events);
            }

            return;
        }

        if ((events & Readable) != 0)
        {
            _down.SourceReadable = true;
            _down.SourceHup |= (events & PeerShutdown) != 0;
        }

        if ((events & Writable) != 0)
        {
            _up.DestinationWritable = true;
        }

        if ((events & LinuxConstants.EpollErr) != 0 && _down.Ended)
        {
            FailFromPendingError(_serverFd, ConnectionSide.RealServer);
        }

        PumpBoth(first: RelayDirection.ServerToClient);
    }

    public void RunReady()
    {
        _readyQueued = false;
        if (_phase != Phase.Relaying)
        {
            return;
        }

        PumpBoth(RelayDirection.ClientToServer);
    }

    public void OnTimer(LoopTimer timer, long now)
    {
        try
        {
            if (_phase == Phase.Connecting)
            {
                OnAttemptFailed(LinuxConstants.ETIMEDOUT);
            }
            else if (_phase == Phase.Relaying)
            {
                ArmIdle(expiredAt: now);
            }
        }
#pragma warning disable CA1031 // One connection's bug closes that connection only.
        catch (Exception error)
#pragma warning restore CA1031
        {
            _loop.CountCrash();
            OnCrashed(error);
        }
    }

    public void OnCrashed(Exception error)
    {
        ForwardingLog.ConnectionCrashed(_runtime.Logger, _runtime.Endpoint, Id, error);
        _runtime.CountCrash();
        Abort(CloseReason.ProxyError);
    }

    /// <summary>
    /// Ends the connection abortively: records <paramref name="reason"/> (unless the connection already ended) and
    /// resets both sockets (SO_LINGER 0, then close: the peers see RST, not a clean FIN).
    /// </summary>
    public void Abort(CloseReason reason)
    {
        if (_phase == Phase.Closed)
        {
            return;
        }

        _abortReason ??= reason;
        CloseSockets(reset: true);
        Finish(_abortReason.Value);
    }

    /// <summary>(Re)arms the idle timeout from the configuration in force: at expiry, a connection that was active
    /// meanwhile is re-armed for the rest (reads never touch the wheel).</summary>
    public void ArmIdle(long? expiredAt = null)
    {
        if (_phase != Phase.Relaying)
        {
            return;
        }

        if (_runtime.Snapshot.Config.IdleTimeout is not { } idle || idle <= TimeSpan.Zero)
        {
            _loop.Wheel.Cancel(_timer);
            return;
        }

        long idleMs = Math.Max(1, (long)idle.TotalMilliseconds);
        long due = LastActivityTick + idleMs;
        if (expiredAt is { } now && now >= due)
        {
            Abort(CloseReason.IdleTimeout);
            return;
        }

        _loop.Wheel.Schedule(_timer, due);
    }

    private void PumpBoth(RelayDirection first)
    {
        RelayDirection second = first == RelayDirection.ClientToServer ? RelayDirection.ServerToClient : RelayDirection.ClientToServer;
        Pump(first);
        if (_phase == Phase.Relaying)
        {
            Pump(second);
        }
    }

    private void Pump(RelayDirection direction)
    {
        ref Direction d = ref direction == RelayDirection.ClientToServer ? ref _up : ref _down;
        int source = direction == RelayDirection.ClientToServer ? _clientFd : _serverFd;
        int destination = direction == RelayDirection.ClientToServer ? _serverFd : _clientFd;
        for (int round = 0; ; round++)
        {
            if (d.Count > 0)
            {
                if (!d.DestinationWritable)
                {
                    return;
                }

                FlushBuffer(ref d, destination, direction);
                if (_phase != Phase.Relaying || d.Count > 0)
                {
                    return;
                }
            }

            if (d.PipePending > 0)
            {
                if (!d.DestinationWritable)
                {
                    return;
                }

                FlushPipe(ref d, destination, direction);
                if (_phase != Phase.Relaying || d.PipePending > 0)
                {
                    return;
                }
            }

            if (d.Ended || !d.SourceReadable)
            {
                return;
            }

            if (round == RoundBudget)
            {
                QueueReady();
                return;
            }

            if (d.Bulk)
            {
                SpliceIn(ref d, source, direction);
            }
            else
            {
                CopyIn(ref d, source, destination, direction);
            }

            if (_phase != Phase.Relaying)
            {
                return;
            }
        }
    }

    private void CopyIn(ref Direction d, int source, int destination, RelayDirection direction)
    {
        byte* buffer = _loop.ReadBuffer;
        int size = _loop.CopySize;
        long read = _loop.Kernel.Receive(source, buffer, size);
        if (read < 0)
        {
            int errno = (int)-read;
            if (errno == LinuxConstants.EAGAIN)
            {
                d.SourceReadable = false;
            }
            else if (errno != LinuxConstants.EINTR)
            {
                Fail(SourceSideOf(direction), errno);
            }

            return;
        }

        if (read == 0)
        {
            EndOfStream(ref d, direction);
            return;
        }

        Received(ref d, direction, (int)read);
        if (read == size)
        {
            d.Bulk = true; // more is likely pending: splice the rest of this burst
        }
        else if (!d.SourceHup)
        {
            d.SourceReadable = false; // a short read: drained, wait for the next edge
        }

        long written = d.DestinationWritable ? _loop.Kernel.Send(destination, buffer, (int)read) : -LinuxConstants.EAGAIN;
        if (written == read)
        {
            Sent(ref d, direction, (int)read);
            return;
        }

        if (written < 0 && written != -LinuxConstants.EAGAIN)
        {
            Fail(DestinationSideOf(direction), (int)-written);
            return;
        }

        // The destination took part or nothing: keep the rest in this very buffer, and pause the source.
        int taken = written > 0 ? (int)written : 0;
        if (taken > 0)
        {
            Sent(ref d, direction, taken);
        }

        d.DestinationWritable = false;
        d.Buffer = buffer;
        d.Offset = taken;
        d.Count = (int)read - taken;
        _loop.ReadBuffer = _loop.Buffers.Rent();
    }

    private void FlushBuffer(ref Direction d, int destination, RelayDirection direction)
    {
        long written = _loop.Kernel.Send(destination, d.Buffer + d.Offset, d.Count);
        if (written < 0)
        {
            if (written == -LinuxConstants.EAGAIN)
            {
                d.DestinationWritable = false;
            }
            else
            {
                Fail(DestinationSideOf(direction), (int)-written);
            }

            return;
        }

        Sent(ref d, direction, (int)written);
        d.Offset += (int)written;
        d.Count -= (int)written;
        if (d.Count == 0)
        {
            _loop.Buffers.Return(d.Buffer);
            d.Buffer = null;
            d.Offset = 0;
        }
        else
        {
            d.DestinationWritable = false; // a short write: the send buffer is full, EPOLLOUT tells when it is not
        }
    }

    private void SpliceIn(ref Direction d, int source, RelayDirection direction)
    {
        if (!d.Pipe.IsValid)
        {
            if (!_loop.Pipes.TryRent(out d.Pipe))
            {
                d.Bulk = false; // out of descriptors: this burst is copied
                return;
            }

            d.Burst = 0;
        }

        // The pipe is empty here (it is flushed before every read), so EAGAIN is about the socket.
        long read = _loop.Kernel.Splice(source, d.Pipe.WriteFd, d.Pipe.Capacity);
        if (read < 0)
        {
            int errno = (int)-read;
            if (errno == LinuxConstants.EAGAIN)
            {
                d.SourceReadable = false;
                EndBurst(ref d);
            }
            else if (errno != LinuxConstants.EINTR)
            {
                Fail(SourceSideOf(direction), errno);
            }

            return;
        }

        if (read == 0)
        {
            EndOfStream(ref d, direction);
            return;
        }

        Received(ref d, direction, (int)read);
        d.Burst += read;
        d.PipePending = (int)read;
    }

    private void FlushPipe(ref Direction d, int destination, RelayDirection direction)
    {
        while (d.PipePending > 0)
        {
            long written = _loop.Kernel.Splice(d.Pipe.ReadFd, destination, d.PipePending);
            if (written < 0)
            {
                if (written == -LinuxConstants.EAGAIN)
                {
                    d.DestinationWritable = false;
                }
                else if (written != -LinuxConstants.EINTR)
                {
                    Fail(DestinationSideOf(direction), (int)-written);
                }

                return;
            }

            if (written == 0)
            {
                Fail(DestinationSideOf(direction), LinuxConstants.EPIPE);
                return;
            }

            Sent(ref d, direction, (int)written);
            d.PipePending -= (int)written;
        }
    }

    /// <summary>The source is drained with the pipe empty: the pipe goes back, and a short burst means the traffic is
    /// small messages again.</summary>
    private void EndBurst(ref Direction d)
    {
        if (d.Pipe.IsValid && d.PipePending == 0)
        {
            _loop.Pipes.Return(d.Pipe);
            d.Pipe = KernelPipe.None;
        }

        if (d.Burst < _loop.CopySize)
        {
            d.Bulk = false;
        }
    }

    private void Received(ref Direction d, RelayDirection direction, int count)
    {
        d.Received += count;
        LastActivityTick = _loop.Now;
        if (direction == RelayDirection.ServerToClient)
        {
            Server?.Counters.AddLiveTraffic(_loop.Index, 0, count);
        }
    }

    private void Sent(ref Direction d, RelayDirection direction, int count)
    {
        d.Sent += count;
        if (direction == RelayDirection.ClientToServer)
        {
            Server?.Counters.AddLiveTraffic(_loop.Index, count, 0);
        }
    }

    /// <summary>The source sent FIN and every byte before it was written on: pass it on as a half-close; the other
    /// direction keeps flowing. Both passed on: a graceful close.</summary>
    private void EndOfStream(ref Direction d, RelayDirection direction)
    {
        d.Ended = true;
        d.SourceReadable = false;
        EndBurst(ref d);
        if (_firstFin is null)
        {
            _firstFin = direction;
            Server?.Counters.ConnectionBecameInactive(); // LVS counts a closing connection as inactive
        }

        if (_up.Ended && _down.Ended)
        {
            // The second FIN: close() sends it. Both receive queues are empty (each source was read to its EOF), so
            // close ends both sockets with FIN, never RST, and the shutdown call is saved.
            CloseSockets(reset: false);
            Finish(_firstFin == RelayDirection.ClientToServer ? CloseReason.ClientClosed : CloseReason.RealServerClosed);
            return;
        }

        int destination = direction == RelayDirection.ClientToServer ? _serverFd : _clientFd;
        int result = _loop.Kernel.Shutdown(destination, LinuxConstants.ShutWrite);
        if (result < 0)
        {
            Fail(DestinationSideOf(direction), -result); // the destination is already gone
        }
    }

    private void QueueReady()
    {
        if (!_readyQueued)
        {
            _readyQueued = true;
            _loop.MarkReady(this);
        }
    }

    private void FailFromPendingError(int fd, ConnectionSide side)
    {
        if (_loop.Kernel.GetOption(fd, LinuxConstants.SolSocket, LinuxConstants.SoError, out int error) >= 0 && error != 0)
        {
            Fail(side, error);
        }
    }

    /// <summary>A call on <paramref name="side"/>'s socket failed: record why and reset both sides.</summary>
    private void Fail(ConnectionSide side, int errno)
    {
        bool reset = Errno.IsReset(errno);
        Abort((side, reset) switch
        {
            (ConnectionSide.Client, true) => CloseReason.ClientReset,
            (ConnectionSide.Client, false) => CloseReason.ClientError,
            (_, true) => CloseReason.RealServerReset,
            _ => CloseReason.RealServerError,
        });
    }

    private static ConnectionSide SourceSideOf(RelayDirection direction) =>
        direction == RelayDirection.ClientToServer ? ConnectionSide.Client : ConnectionSide.RealServer;

    private static ConnectionSide DestinationSideOf(RelayDirection direction) =>
        direction == RelayDirection.ClientToServer ? ConnectionSide.RealServer : ConnectionSide.Client;

    // ---- Connect and redispatch ------------------------------------------------------------------------------

    /// <summary>
    /// Picks a real server and connects, redispatching after a failed connect to another server (never one already
    /// tried), up to <see cref="ForwarderOptions.MaxConnectAttempts"/>; falls back to the sorry server when no real
    /// server is up or every attempt failed.
    /// </summary>
    private void NextAttempt()
    {
        IPAddress clientAddress = ClientEndpoint?.Address ?? IPAddress.None;
        while (true)
        {
            // Re-read per attempt: a health change may have arrived while the previous connect was pending.
            DispatchSnapshot snapshot = _runtime.Snapshot;
            RealServerSnapshot? server;
            PersistenceLease lease = default;
            ReadOnlySpan<RealServerSnapshot> excluded = _tried.AsSpan(0, _triedCount);
            if (snapshot.Persistence is { } table)
            {
                lease = table.Acquire(clientAddress, snapshot.Scheduler, excluded);
                server = lease.Server;
            }
            else
            {
                server = snapshot.Scheduler.Pick(clientAddress, excluded);
            }

            if (server is null)
            {
                break;
            }

            // The pick only read the counters; the reservation enforces maxconn exactly. Losing the race means
            // "full", not "failed": try another server without spending an attempt.
            if (!server.TryReserveConnection())
            {
                snapshot.Persistence?.Release(lease);
                AddTried(server, snapshot.Scheduler.Servers.Length);
                continue;
            }

            _attempts++;
            _attemptServer = server;
            _attemptTable = snapshot.Persistence;
            _attemptLease = lease;
            _attemptIsSorry = false;
            Connect(server.Endpoint, server.SendProxy, snapshot.Config);
            return;
        }

        TrySorryServer();
    }

    private void TrySorryServer()
    {
        DispatchSnapshot snapshot = _runtime.Snapshot;
        if (!_sorryTried && snapshot.SorryServer is { } sorry && (!snapshot.HasLiveServer || _attempts > 0))
        {
            _sorryTried = true;
            sorry.Counters.ConnectionOpened();
            _attemptServer = sorry;
            _attemptTable = null;
            _attemptLease = default;
            _attemptIsSorry = true;
            Connect(sorry.Endpoint, sorry.SendProxy, snapshot.Config);
            return;
        }

        Abort(_attempts > 0
            ? _lastError == SocketError.TimedOut ? CloseReason.ConnectTimeout : CloseReason.ConnectFailed
            : snapshot.HasLiveServer ? CloseReason.RealServerFull : CloseReason.NoRealServer);
    }

    /// <summary>Starts one connect to the attempt's server; completes now, or later from the loop.</summary>
    private void Connect(IPEndPoint endpoint, ProxyProtocolVersion sendProxy, VirtualServer config)
    {
        int result = BeginConnect(endpoint, sendProxy, config);
        if (result == Pending || result == Aborted)
        {
            return;
        }

        if (result == 0)
        {
            Connected(LinuxConstants.EpollOut);
        }
        else
        {
            OnAttemptFailed(result);
        }
    }

    /// <summary>Pending, 0 (connected at once), <see cref="Aborted"/> (the connection was closed), or an errno.</summary>
    private int BeginConnect(IPEndPoint endpoint, ProxyProtocolVersion sendProxy, VirtualServer config)
    {
        if (endpoint.Address.IsIPv4MappedToIPv6)
        {
            // An IPv6-only socket cannot reach ::ffff:a.b.c.d (ENETUNREACH); talk IPv4 to an IPv4 server.
            endpoint = new IPEndPoint(endpoint.Address.MapToIPv4(), endpoint.Port);
        }

        _sendProxy = sendProxy;
        SocketAddressBuffer address = SocketAddressBuffer.From(endpoint);
        ILoopKernel kernel = _loop.Kernel;
        int fd = kernel.TcpSocket(address.Family);
        if (fd < 0)
        {
            // Out of descriptors here, not a fault of the real server: the client is refused, the server is not
            // held against it.
            Abort(CloseReason.ProxyError);
            return Aborted;
        }

        _serverFd = fd;
        _attempt++;
        _ = kernel.SetOption(fd, LinuxConstants.SolTcp, LinuxConstants.TcpNoDelay, 1);
        SetKeepalive(kernel, fd, config.TcpKeepalive);
        if (config.Transparent && !BindToClientAddress(fd, address.Family))
        {
            return Aborted;
        }

        if (_runtime.ConnectLatencyEnabled)
        {
            _connectStarted = _runtime.TimeProvider.GetTimestamp();
        }

        int connected = kernel.Connect(fd, address);
        if (connected < 0 && connected != -LinuxConstants.EINPROGRESS)
        {
            CloseServerSocket();
            return -connected;
        }

        int watched = _loop.Watch(fd, _slot, ServerKind, _attempt);
        if (watched < 0)
        {
            CloseServerSocket();
            return -watched;
        }

        if (connected == 0)
        {
            return 0;
        }

        long timeoutMs = Math.Max(1, (long)config.ProxyConnectTimeout.TotalMilliseconds);
        _loop.Wheel.Schedule(_timer, _loop.Now + timeoutMs);
        return Pending;
    }

    /// <summary>
    /// <c>tcp_keepalive</c> on one leg. Best effort, as TCP_NODELAY: the binder keeps the values within the kernel's
    /// limits, so a refusal would mean a descriptor that is already failing, which the relay reports on its own.
    /// </summary>
    private static void SetKeepalive(ILoopKernel kernel, int fd, TcpKeepalive? keepalive)
    {
        if (keepalive is null)
        {
            return;
        }

        _ = kernel.SetOption(fd, LinuxConstants.SolTcp, LinuxConstants.TcpKeepIdle, (int)keepalive.Idle.TotalSeconds);
        _ = kernel.SetOption(fd, LinuxConstants.SolTcp, LinuxConstants.TcpKeepInterval, (int)keepalive.Interval.TotalSeconds);
        _ = kernel.SetOption(fd, LinuxConstants.SolTcp, LinuxConstants.TcpKeepCount, keepalive.Count);
        _ = kernel.SetOption(fd, LinuxConstants.SolSocket, LinuxConstants.SoKeepAlive, 1);
    }

    /// <summary>
    /// <c>transparent</c>: binds the real-server socket to the client's IP with port 0, as LVS-NAT's real server
    /// would see it; the port is left to connect (IP_BIND_ADDRESS_NO_PORT: unique per 4-tuple), since the client's own
    /// port may be in use towards the same real server. Aborts with <see cref="CloseReason.TransparentBindFailed"/>
    /// when the kernel refuses.
    /// </summary>
    private bool BindToClientAddress(int fd, int family)
    {
        IPAddress? client = ClientEndpoint?.Address;
        if (client is null)
        {
            Fail(ConnectionSide.Client, LinuxConstants.ENOTCONN);
            return false;
        }

        if (client.IsIPv4MappedToIPv6 && family == LinuxConstants.AfInet)
        {
            client = client.MapToIPv4();
        }

        int clientFamily = client.AddressFamily == AddressFamily.InterNetwork ? LinuxConstants.AfInet : LinuxConstants.AfInet6;
        if (clientFamily != family)
        {
            _runtime.TransparentBindFailed(client, SocketError.AddressFamilyNotSupported,
                "the client and the real server use different address families");
            Abort(CloseReason.TransparentBindFailed);
            return false;
        }

        ILoopKernel kernel = _loop.Kernel;
        string step = "setsockopt IP_TRANSPARENT";
        int result = family == LinuxConstants.AfInet
            ? kernel.SetOption(fd, LinuxConstants.SolIp, LinuxConstants.IpTransparent, 1)
            : kernel.SetOption(fd, LinuxConstants.SolIpv6, LinuxConstants.Ipv6Transparent, 1);
        if (result >= 0)
        {
            step = "setsockopt IP_BIND_ADDRESS_NO_PORT";
            result = kernel.SetOption(fd, LinuxConstants.SolIp, LinuxConstants.IpBindAddressNoPort, 1);
        }

        if (result >= 0)
        {
            step = "bind to the client's address";
            result = kernel.Bind(fd, SocketAddressBuffer.From(new IPEndPoint(client, 0)));
        }

        if (result < 0)
        {
            SocketError error = Errno.ToSocketError(-result);
            _runtime.TransparentBindFailed(client, error, step + " refused" + (
                error is SocketError.AccessDenied or SocketError.AddressNotAvailable
                    ? " (the process needs CAP_NET_ADMIN for IP_TRANSPARENT)"
                    : string.Empty));
            Abort(CloseReason.TransparentBindFailed);
            return false;
        }

        _runtime.TransparentBindSucceeded();
        return true;
    }

    private void CompleteConnect(uint events)
    {
        if ((events & (LinuxConstants.EpollErr | LinuxConstants.EpollHup)) != 0)
        {
            int error;
            _ = _loop.Kernel.GetOption(_serverFd, LinuxConstants.SolSocket, LinuxConstants.SoError, out error);
            OnAttemptFailed(error != 0 ? error : LinuxConstants.ECONNRESET);
            return;
        }

        Connected(events);
    }

    private void Connected(uint events)
    {
        _loop.Wheel.Cancel(_timer);
        RealServerSnapshot server = _attemptServer!;
        if (_sendProxy != ProxyProtocolVersion.None && !SendProxyHeader())
        {
            return;
        }

        if (_runtime.ConnectLatencyEnabled)
        {
            _runtime.RecordConnectLatency(server.Endpoint, _runtime.TimeProvider.GetElapsedTime(_connectStarted));
        }

        Server = server;
        _table = _attemptTable;
        _lease = _attemptLease;
        _attemptServer = null;
        _attemptTable = null;
        _phase = Phase.Relaying;
        LastActivityTick = _loop.Now;
        _up.DestinationWritable = true;
        if ((events & Readable) != 0)
        {
            _down.SourceReadable = true; // a server that speaks first (MySQL's greeting) may already have
            _down.SourceHup |= (events & PeerShutdown) != 0;
        }

        ArmIdle();
        if (_phase == Phase.Relaying)
        {
            PumpBoth(RelayDirection.ServerToClient);
        }
    }

    /// <summary>Writes the PROXY header naming the client and the address it connected to. The socket has just
    /// connected, so its send buffer is empty and the whole header (at most 108 bytes) goes in one call; a header
    /// cut short would corrupt the stream, so that counts as a failed connect.</summary>
    private bool SendProxyHeader()
    {
        if (ClientEndpoint is not { } client || _runtime.VirtualServerAddressOf(_loop.Kernel, _clientFd) is not { } destination)
        {
            Fail(ConnectionSide.Client, LinuxConstants.ENOTCONN); // the client vanished right after accept
            return false;
        }

        byte* header = stackalloc byte[ProxyProtocolHeader.MaxLength];
        int length = ProxyProtocolHeader.Write(new Span<byte>(header, ProxyProtocolHeader.MaxLength), _sendProxy, client, destination);
        long sent = _loop.Kernel.Send(_serverFd, header, length);
        if (sent != length)
        {
            OnAttemptFailed(sent < 0 ? (int)-sent : LinuxConstants.ENOBUFS);
            return false;
        }

        return true;
    }

    /// <summary>The attempt's connect failed (or timed out): account it, then redispatch, try the sorry server, or
    /// give up.</summary>
    private void OnAttemptFailed(int errno)
    {
        _loop.Wheel.Cancel(_timer);
        RealServerSnapshot server = _attemptServer!;
        bool sorry = _attemptIsSorry;
        _attemptServer = null;
        CloseServerSocket();
        SocketError error = Errno.ToSocketError(errno);
        server.Counters.ConnectionClosed(wasInactive: false);
        _attemptTable?.Release(_attemptLease);
        _attemptTable = null;
        server.Counters.ConnectFailed();
        _lastError = error;
        if (sorry)
        {
            _runtime.SorryConnectFailed(server.Endpoint, error);
            TrySorryServer();
            return;
        }

        bool redispatching = _attempts < Math.Max(1, _runtime.Options.MaxConnectAttempts);
        AddTried(server, _runtime.Snapshot.Scheduler.Servers.Length);

        // Hold the server down before the next pick, so neither this client's redispatch nor any new client is sent
        // to it again until a health check vouches for it or the hold-down ends.
        _runtime.OnConnectFailed(server, error, redispatching);
        _runtime.ReportConnectFailure(server.Endpoint, error);
        if (redispatching)
        {
            NextAttempt();
        }
        else
        {
            TrySorryServer();
        }
    }

    /// <summary>A server this client must not be sent to again (it failed or was full). The list exists only for
    /// clients that needed a second pick: the first attempt allocates nothing.</summary>
    private void AddTried(RealServerSnapshot server, int servers)
    {
        _tried ??= new RealServerSnapshot[servers + 1];
        if (_triedCount == _tried.Length)
        {
            Array.Resize(ref _tried, _tried.Length * 2);
        }

        _tried[_triedCount++] = server;
    }

    private void CloseServerSocket()
    {
        if (_serverFd >= 0)
        {
            _ = _loop.Kernel.Close(_serverFd);
            _serverFd = -1;
        }
    }

    // ---- Close -----------------------------------------------------------------------------------------------

    private void CloseSockets(bool reset)
    {
        ILoopKernel kernel = _loop.Kernel;
        if (_clientFd >= 0)
        {
            if (reset)
            {
                _ = kernel.SetLingerZero(_clientFd);
            }

            _ = kernel.Close(_clientFd);
            _clientFd = -1;
        }

        if (_serverFd >= 0)
        {
            if (reset)
            {
                _ = kernel.SetLingerZero(_serverFd);
            }

            _ = kernel.Close(_serverFd);
            _serverFd = -1;
        }
    }

    /// <summary>Accounts the finished connection exactly once: buffers and pipes, counters, persistence, close
    /// reason, log line.</summary>
    private void Finish(CloseReason reason)
    {
        Phase phase = _phase;
        _phase = Phase.Closed;
        _loop.Wheel.Cancel(_timer);
        Release(ref _up);
        Release(ref _down);

        // A connect still in flight held a reservation on its server.
        if (phase == Phase.Connecting && _attemptServer is { } attempt)
        {
            attempt.Counters.ConnectionClosed(wasInactive: false);
            _attemptTable?.Release(_attemptLease);
            _attemptServer = null;
        }

        if (Server is { } server)
        {
            server.Counters.ConnectionClosed(_firstFin is not null);
            _table?.Release(_lease);
        }

        if (_admitted)
        {
            _runtime.ReleaseAdmission();
        }

        _runtime.ReleaseSource(_sourceLease);
        _runtime.ConnectionFinished(this, reason, _up.Received, _down.Received, _loop.Now - StartedTick);
        if (_slot >= 0)
        {
            _loop.Unregister(_slot);
            _slot = -1;
        }

        _binding.ConnectionEnded();
    }

    private void Release(ref Direction d)
    {
        if (d.Buffer != null)
        {
            _loop.Buffers.Return(d.Buffer);
            d.Buffer = null;
            d.Count = 0;
        }

        if (d.Pipe.IsValid)
        {
            if (d.PipePending == 0)
            {
                _loop.Pipes.Return(d.Pipe);
            }
            else
            {
                _loop.Pipes.Discard(d.Pipe); // still holds bytes that will never be sent
            }

            d.Pipe = KernelPipe.None;
            d.PipePending = 0;
        }
    }
}
