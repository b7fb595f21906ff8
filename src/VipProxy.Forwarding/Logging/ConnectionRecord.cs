using System.Net;
using Microsoft.Extensions.Logging;
using VipProxy.Forwarding.Relay;
using VipProxy.Forwarding.Runtime;

namespace VipProxy.Forwarding.Logging;

/// <summary>One finished proxied connection, as the connection log records it.</summary>
/// <param name="Id">Connection id.</param>
/// <param name="Client">The client's address (null when it vanished before it could be read).</param>
/// <param name="VirtualServer">The virtual server it came through.</param>
/// <param name="RealServer">The real server it was forwarded to (null when it never was).</param>
/// <param name="BytesFromClient">Bytes read from the client.</param>
/// <param name="BytesFromServer">Bytes read from the real server.</param>
/// <param name="DurationMs">Milliseconds from accept to close.</param>
/// <param name="Reason">Why it ended.</param>
public readonly record struct ConnectionRecord(
    long Id,
    IPEndPoint? Client,
    IPEndPoint VirtualServer,
    IPEndPoint? RealServer,
    long BytesFromClient,
    long BytesFromServer,
    long DurationMs,
    CloseReason Reason)
{
    /// <summary>The side that caused <see cref="Reason"/>.</summary>
    public ConnectionSide Side => Reason.SideOf();
}

/// <summary>
/// Where the forwarder's one line per connection goes (<c>log_connections</c>). <see cref="Write"/> runs on the
/// event loop that closed the connection, so it must not block; each loop calls <see cref="Flush"/> at most
/// <see cref="FlushInterval"/> after its first unflushed write (and when it stops), so lines reach the output in
/// batches without a wake-up per connection.
/// </summary>
public interface IConnectionLogSink
{
    /// <summary>Records one finished connection; <paramref name="loop"/> is the calling loop's index.</summary>
    void Write(int loop, in ConnectionRecord record);

    /// <summary>Hands what <paramref name="loop"/> wrote since the last flush to the output.</summary>
    void Flush(int loop);

    /// <summary>How long a loop may hold written lines before flushing them.</summary>
    static TimeSpan FlushInterval => TimeSpan.FromMilliseconds(50);
}

/// <summary><c>log_connections off</c>: nothing is recorded.</summary>
public sealed class NullConnectionLog : IConnectionLogSink
{
    public static NullConnectionLog Instance { get; } = new();

    public void Write(int loop, in ConnectionRecord record)
    {
    }

    public void Flush(int loop)
    {
    }
}

/// <summary>
/// The connection log through <see cref="ILogger"/> (EventId 1000, structured), for a forwarder used as a library
/// or in tests; the daemon uses <see cref="BatchedConnectionLog"/>, which formats without allocating and writes in
/// batches.
/// </summary>
public sealed class LoggerConnectionLog(ILogger logger) : IConnectionLogSink
{
    public void Write(int loop, in ConnectionRecord record) => ForwardingLog.ConnectionFinished(
        logger, record.Client, record.VirtualServer, record.RealServer, record.BytesFromClient, record.BytesFromServer,
        record.DurationMs, record.Reason, record.Side);

    public void Flush(int loop)
    {
    }
}

/// <summary>
/// <c>log_connections on|off</c> that a reload can flip: the loops keep writing to this sink, which passes records
/// on only while <see cref="Enabled"/>.
/// </summary>
public sealed class ConnectionLogSwitch(IConnectionLogSink inner, bool enabled) : IConnectionLogSink
{
    private volatile bool _enabled = enabled;

    /// <summary>Whether records reach the inner sink.</summary>
    public bool Enabled
    {
        get => _enabled;
        set => _enabled = value;
    }

    public void Write(int loop, in ConnectionRecord record)
    {
        if (_enabled)
        {
            inner.Write(loop, record);
        }
    }

    public void Flush(int loop) => inner.Flush(loop);
}
