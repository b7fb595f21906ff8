using System.Net;
using System.Net.Sockets;
using VipProxy.Forwarding.Admission;
using VipProxy.Forwarding.Logging;
using VipProxy.Forwarding.Loop;
using VipProxy.Forwarding.Relay;

namespace VipProxy.Forwarding.Runtime;

/// <summary>What the loops' connections ask of their virtual server: admission, connect failures, accounting. The
/// per-connection flow itself (admit, pick, connect with redispatch, relay, close) is <see cref="LoopConnection"/>.
/// Called on the loop threads.</summary>
public sealed partial class VirtualServerRuntime
{
    /// <summary>
    /// <c>maxconn_per_source</c> and <c>conn_rate_per_source</c>, checked before the virtual server's <c>maxconn</c> so
    /// one noisy client cannot take the shared room first. Returns the refusal, or null when admitted (the lease then
    /// counts the connection against its source until released).
    /// </summary>
    internal CloseReason? TryAdmitSource(IPEndPoint? client, DispatchSnapshot snapshot, out SourceLease lease)
    {
        lease = default;
        SourceLimits limits = SourceLimits.From(snapshot.Config);
        if (limits.IsNone || client is null)
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

    internal void ReleaseSource(SourceLease lease) => _sources.Release(lease);

    /// <summary>Counts a client against the virtual server's <c>maxconn</c> (0 = unlimited) with one CAS loop (the
    /// count is shared by the loops).</summary>
    internal bool TryAdmit(long maxConnections)
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

    internal void ReleaseAdmission() => Interlocked.Decrement(ref _openConnections);

    internal void CountCrash() => Interlocked.Increment(ref _crashes);

    internal void ReportConnectFailure(IPEndPoint realServer, SocketError error)
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

    internal void SorryConnectFailed(IPEndPoint sorry, SocketError error) =>
        ForwardingLog.ConnectAttemptFailed(_logger, Microsoft.Extensions.Logging.LogLevel.Warning, Endpoint, sorry, error, false);

    internal bool ConnectLatencyEnabled => ForwardingMetrics.ConnectLatency.Enabled;

    internal void RecordConnectLatency(IPEndPoint realServer, TimeSpan elapsed) =>
        ForwardingMetrics.ConnectLatency.Record(
            elapsed.TotalSeconds,
            new KeyValuePair<string, object?>("virtual_server", _endpointLabel),
            new KeyValuePair<string, object?>("real_server", realServer.ToString()));

    /// <summary>Accounts a finished connection once: its close reason, the duration metric, the log line.</summary>
    internal void ConnectionFinished(LoopConnection connection, CloseReason reason, long bytesFromClient, long bytesFromServer, long durationMs)
    {
        Interlocked.Increment(ref _closeReasons[(int)reason]);
        if (ForwardingMetrics.ConnectionDuration.Enabled)
        {
            ForwardingMetrics.ConnectionDuration.Record(
                durationMs / 1000.0,
                new KeyValuePair<string, object?>("virtual_server", _endpointLabel),
                new KeyValuePair<string, object?>("close_reason", CloseReasonNames[(int)reason]));
        }

        _connectionLog.Write(connection.LoopIndex, new ConnectionRecord(
            connection.Id, connection.ClientEndpoint, LocalEndpoint ?? Endpoint, connection.Server?.Endpoint, bytesFromClient, bytesFromServer, durationMs, reason));
        connection.Loop.LogWritten();
    }
}
