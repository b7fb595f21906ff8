using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using VipProxy.Forwarding.Relay;
using VipProxy.Forwarding.Runtime;

namespace VipProxy.Forwarding.Tests.Support;

/// <summary>Records connect failures reported by the forwarder.</summary>
internal sealed class RecordingFailureSink : IRealServerFailureSink
{
    public ConcurrentQueue<(IPEndPoint RealServer, SocketError Error)> Failures { get; } = new();

    public void ConnectFailed(IPEndPoint virtualServer, IPEndPoint realServer, SocketError error) =>
        Failures.Enqueue((realServer, error));
}

/// <summary>One "connection finished" log line, parsed from its structured state.</summary>
internal sealed record FinishedConnection(string? RealServer, CloseReason Reason, ConnectionSide Side, long BytesFromClient, long BytesFromServer);

/// <summary>Captures the forwarder's log; keeps the per-connection lines (EventId 1000) in structured form.</summary>
internal sealed class CapturingLogger : ILogger
{
    public ConcurrentQueue<FinishedConnection> Finished { get; } = new();

    public ConcurrentQueue<string> Lines { get; } = new();

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        Lines.Enqueue($"{eventId.Id} {formatter(state, exception)}");
        if (eventId.Id != 1000 || state is not IReadOnlyList<KeyValuePair<string, object?>> values)
        {
            return;
        }

        object? Get(string key) => values.First(pair => pair.Key == key).Value;
        Finished.Enqueue(new FinishedConnection(
            Get("RealServer")?.ToString(),
            (CloseReason)Get("CloseReason")!,
            (ConnectionSide)Get("CloseSide")!,
            (long)Get("BytesFromClient")!,
            (long)Get("BytesFromServer")!));
    }
}
