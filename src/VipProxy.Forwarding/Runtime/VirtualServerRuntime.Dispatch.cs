using System.Net;
using System.Net.Sockets;
using VipProxy.Config.Model;
using VipProxy.Core.ProxyProtocol;
using VipProxy.Forwarding.Admission;
using VipProxy.Forwarding.Persistence;
using VipProxy.Forwarding.Relay;
using VipProxy.Forwarding.Scheduling;

namespace VipProxy.Forwarding.Runtime;

/// <summary>The per-connection flow: admit, pick, connect (with redispatch), relay, account.</summary>
public sealed partial class VirtualServerRuntime
{
    /// <summary>Where a connection was forwarded, and what to release when it ends.</summary>
    private readonly record struct Forwarded(RealServerSnapshot Server, PersistenceTable? Table, PersistenceLease Lease);

    private void OnAccepted(Socket client)
    {
        Interlocked.Increment(ref _handlers);
        Interlocked.Increment(ref _acceptedConnections);
        _ = HandleAsync(client);
    }

    private async Task HandleAsync(Socket client)
    {
        // Runs inline on the accept loop's thread up to the first await (the connect, which returns EINPROGRESS at
        // once): admission, scheduling and socket creation are microseconds, while hopping to the thread pool per
        // connection cost a queue, a worker wake-up and a context switch (measured: bench/results/perf-experiments.md).
        var connection = new ProxiedConnection(Interlocked.Increment(ref _nextConnectionId), client);
        _connections.TryAdd(connection.Id, connection);
        bool admitted = false;
        SourceLease sourceLease = default;
        Forwarded? forwarded = null;
        try
        {
            DispatchSnapshot snapshot = Volatile.Read(ref _snapshot);
            if (TryAdmitSource(connection, snapshot, out sourceLease) is CloseReason refusal)
            {
                connection.Abort(refusal);
                return;
            }

            admitted = TryAdmit(snapshot.Config.MaxConnections ?? 0);
            if (!admitted)
            {
                connection.Abort(CloseReason.VirtualServerFull);
                return;
            }

            forwarded = await ConnectToRealServerAsync(connection).ConfigureAwait(false);
            if (forwarded is not { } target || connection.IsAborted)
            {
                return;
            }

            client.NoDelay = true;
            connection.MarkRelaying(target.Server.Endpoint, target.Server.Counters);
            await _relay.RunAsync(connection).ConfigureAwait(false);
        }
        catch (SocketException error)
        {
            // Only socket options on the client can throw here (the client vanished right after accept).
            connection.Fail(ConnectionSide.Client, error.SocketErrorCode);
        }
        catch (ObjectDisposedException)
        {
            connection.Fail(ConnectionSide.Client, SocketError.OperationAborted);
        }
#pragma warning disable CA1031 // A bug in one connection must not become an unobserved task exception; it is logged.
        catch (Exception unexpected)
#pragma warning restore CA1031
        {
            ForwardingLog.ConnectionCrashed(_logger, Endpoint, connection.Id, unexpected);
            connection.Abort(CloseReason.Shutdown);
        }
        finally
        {
            _sources.Release(sourceLease);
            Complete(connection, forwarded, admitted);
        }
    }

    /// <summary>
    /// <c>maxconn_per_source</c> and <c>conn_rate_per_source</c>, checked before the virtual server's <c>maxconn</c> so
    /// one noisy client cannot take the shared room first. Returns the refusal, or null when admitted (the lease then
    /// counts the connection against its source until released).
    /// </summary>
    private CloseReason? TryAdmitSource(ProxiedConnection connection, DispatchSnapshot snapshot, out SourceLease lease)
    {
        lease = default;
        SourceLimits limits = SourceLimits.From(snapshot.Config);
        if (limits.IsNone || connection.ClientEndpoint is not { } client)
        {
            // No limit, or the client vanished before its address could be read (its first read will fail).
            return null;
        }

        return _sources.TryAdmit(client.Address, limits, out lease) switch
        {
            SourceVerdict.TooManyConnections => CloseReason.SourceLimit,
            SourceVerdict.RateExceeded => CloseReason.SourceRateLimit,
            _ => null,
        };
    }

    /// <summary>Counts a client against the virtual server's <c>maxconn</c> (0 = unlimited) with one CAS loop.</summary>
    private bool TryAdmit(long maxConnections)
    {
        if (maxConnections <= 0)
        {
            Interlocked.Increment(ref _openConnections);
            return true;
        }

        long current = Volatile.Read(ref _openConnections);
        while (current < maxConnections)
        {
            long seen = Interlocked.CompareExchange(ref _openConnections, current + 1, current);
            if (seen == current)
            {
                return true;
            }

            current = seen;
        }

        return false;
    }

    /// <summary>
    /// Picks a real server and connects, redispatching after a failed connect to another server (never one already
    /// tried), up to <see cref="ForwarderOptions.MaxConnectAttempts"/>; falls back to the sorry server when no real
    /// server is up or every attempt failed. Returns null after recording the close reason on the connection.
    /// </summary>
    private async Task<Forwarded?> ConnectToRealServerAsync(ProxiedConnection connection)
    {
        IPAddress clientAddress = connection.ClientEndpoint?.Address ?? IPAddress.None;
        int maxAttempts = Math.Max(1, _options.MaxConnectAttempts);
        int attempts = 0;
        SocketError lastError = SocketError.Success;
        RealServerSnapshot[]? tried = null;
        int triedCount = 0;
        DispatchSnapshot snapshot;
        while (true)
        {
            // Re-read per attempt: a health change may have arrived while the previous connect was pending.
            snapshot = Volatile.Read(ref _snapshot);
            RealServerSnapshot? server;
            PersistenceLease lease = default;
            ReadOnlySpan<RealServerSnapshot> excluded = tried.AsSpan(0, triedCount);
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

            tried ??= new RealServerSnapshot[snapshot.Scheduler.Servers.Length + 1];
            if (triedCount == tried.Length)
            {
                Array.Resize(ref tried, tried.Length * 2);
            }

            tried[triedCount++] = server;

            // The pick only read the counters; the reservation enforces maxconn exactly. Losing the race means
            // "full", not "failed": try another server without spending an attempt.
            if (!server.TryReserveConnection())
            {
                snapshot.Persistence?.Release(lease);
                continue;
            }

            attempts++;
            SocketError error = await ConnectAsync(connection, server.Endpoint, server.SendProxy, snapshot.Config).ConfigureAwait(false);
            if (error == SocketError.Success)
            {
                return new Forwarded(server, snapshot.Persistence, lease);
            }

            server.Counters.ConnectionClosed(wasInactive: false);
            snapshot.Persistence?.Release(lease);
            if (connection.IsAborted)
            {
                return null;
            }

            server.Counters.ConnectFailed();
            lastError = error;
            bool redispatching = attempts < maxAttempts;

            // Hold the server down before the next pick, so neither this client's redispatch nor any new client is
            // sent to it again until a health check vouches for it or the hold-down ends.
            OnConnectFailed(server, error, redispatching);
            ReportConnectFailure(server.Endpoint, error);
            if (!redispatching)
            {
                break;
            }
        }

        if (snapshot.SorryServer is { } sorry && (!snapshot.HasLiveServer || attempts > 0))
        {
            sorry.Counters.ConnectionOpened();
            SocketError error = await ConnectAsync(connection, sorry.Endpoint, sorry.SendProxy, snapshot.Config).ConfigureAwait(false);
            if (error == SocketError.Success)
            {
                return new Forwarded(sorry, null, default);
            }

            sorry.Counters.ConnectionClosed(wasInactive: false);
            if (connection.IsAborted)
            {
                return null;
            }

            sorry.Counters.ConnectFailed();
            ForwardingLog.ConnectAttemptFailed(_logger, Microsoft.Extensions.Logging.LogLevel.Warning, Endpoint, sorry.Endpoint, error, false);
            attempts++;
            lastError = error;
        }

        connection.Abort(attempts > 0
            ? lastError == SocketError.TimedOut ? CloseReason.ConnectTimeout : CloseReason.ConnectFailed
            : snapshot.HasLiveServer ? CloseReason.RealServerFull : CloseReason.NoRealServer);
        return null;
    }

    /// <summary>One connect with <c>proxy_connect_timeout</c>; the socket is attached to the connection first so a
    /// shutdown also cancels a pending connect. From the client's address when the virtual server is
    /// <c>transparent</c>; followed by the PROXY header when <paramref name="sendProxy"/> asks for one, so the header
    /// is in the socket before the relay (any relay) moves a single client byte. Returns the error
    /// (<see cref="SocketError.TimedOut"/> on timeout); a refused transparent bind aborts the connection.</summary>
    private async Task<SocketError> ConnectAsync(ProxiedConnection connection, IPEndPoint endpoint, ProxyProtocolVersion sendProxy, VirtualServer config)
    {
        TimeSpan timeout = config.ProxyConnectTimeout;
        if (endpoint.Address.IsIPv4MappedToIPv6)
        {
            // An IPv6-only socket cannot reach ::ffff:a.b.c.d (ENETUNREACH); talk IPv4 to an IPv4 server.
            endpoint = new IPEndPoint(endpoint.Address.MapToIPv4(), endpoint.Port);
        }

        var socket = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        connection.AttachRealServer(socket);
        if (config.Transparent)
        {
            SocketError bindError = BindToClientAddress(connection, socket);
            if (bindError != SocketError.Success)
            {
                connection.DetachRealServer();
                return bindError;
            }
        }

        using var timeoutSource = new CancellationTokenSource(timeout, _timeProvider);
        long started = _timeProvider.GetTimestamp();
        try
        {
            await socket.ConnectAsync(endpoint, timeoutSource.Token).ConfigureAwait(false);
            socket.NoDelay = true;
            if (sendProxy != ProxyProtocolVersion.None)
            {
                SendProxyHeader(connection, socket, sendProxy);
            }

            if (ForwardingMetrics.ConnectLatency.Enabled)
            {
                ForwardingMetrics.ConnectLatency.Record(
                    _timeProvider.GetElapsedTime(started).TotalSeconds,
                    new KeyValuePair<string, object?>("virtual_server", _endpointLabel),
                    new KeyValuePair<string, object?>("real_server", endpoint.ToString()));
            }

            return SocketError.Success;
        }
        catch (OperationCanceledException)
        {
            connection.DetachRealServer();
            return SocketError.TimedOut;
        }
        catch (SocketException error)
        {
            connection.DetachRealServer();
            return error.SocketErrorCode;
        }
        catch (ObjectDisposedException)
        {
            connection.DetachRealServer();
            return SocketError.OperationAborted;
        }
    }

    private void ReportConnectFailure(IPEndPoint realServer, SocketError error)
    {
        try
        {
            _failureSink.ConnectFailed(Endpoint, realServer, error);
        }
#pragma warning disable CA1031 // The sink belongs to another component; its bug must not fail this client.
        catch (Exception sinkError)
#pragma warning restore CA1031
        {
            ForwardingLog.FailureSinkThrew(_logger, Endpoint, sinkError);
        }
    }

    /// <summary>Accounts a finished connection exactly once: counters, persistence, close reason, log line.</summary>
    private void Complete(ProxiedConnection connection, Forwarded? forwarded, bool admitted)
    {
        CloseReason reason = connection.Finish();
        if (forwarded is { } target)
        {
            target.Server.Counters.AddTraffic(connection.BytesToServer, connection.BytesFromServer);
            target.Server.Counters.ConnectionClosed(connection.IsHalfClosed);
            target.Table?.Release(target.Lease);
        }

        if (admitted)
        {
            Interlocked.Decrement(ref _openConnections);
        }

        Interlocked.Increment(ref _closeReasons[(int)reason]);
        _connections.TryRemove(connection.Id, out _);
        if (ForwardingMetrics.ConnectionDuration.Enabled)
        {
            ForwardingMetrics.ConnectionDuration.Record(
                (Environment.TickCount64 - connection.StartedTick) / 1000.0,
                new KeyValuePair<string, object?>("virtual_server", _endpointLabel),
                new KeyValuePair<string, object?>("close_reason", CloseReasonNames[(int)reason]));
        }

        ForwardingLog.ConnectionFinished(
            _logger,
            connection.ClientEndpoint,
            Endpoint,
            connection.RealServerEndpoint,
            connection.BytesFromClient,
            connection.BytesFromServer,
            Environment.TickCount64 - connection.StartedTick,
            reason,
            reason.SideOf());
        HandlerFinished();
    }
}
