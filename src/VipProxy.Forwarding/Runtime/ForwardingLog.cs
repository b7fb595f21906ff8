using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using VipProxy.Forwarding.Relay;

namespace VipProxy.Forwarding.Runtime;

/// <summary>The forwarder's log messages. EventIds are stable: log processing may match on them.</summary>
internal static partial class ForwardingLog
{
    /// <summary>EventId of the one line logged per finished connection.</summary>
    public const int ConnectionFinishedId = 1000;

    [LoggerMessage(EventId = ConnectionFinishedId, Level = LogLevel.Information,
        Message = "{Client} -> {VirtualServer} -> {RealServer}: {BytesFromClient} bytes up, {BytesFromServer} bytes down, {DurationMs} ms, {CloseReason} by {CloseSide}")]
    public static partial void ConnectionFinished(
        ILogger logger,
        IPEndPoint? client,
        IPEndPoint virtualServer,
        IPEndPoint? realServer,
        long bytesFromClient,
        long bytesFromServer,
        long durationMs,
        CloseReason closeReason,
        ConnectionSide closeSide);

    [LoggerMessage(EventId = 1001, Level = LogLevel.Information, Message = "Virtual server {VirtualServer} listening on {LocalEndpoint} ({Loops} event loops)")]
    public static partial void Listening(ILogger logger, IPEndPoint virtualServer, IPEndPoint localEndpoint, int loops);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Information, Message = "Virtual server {VirtualServer} stopped accepting")]
    public static partial void StoppedListening(ILogger logger, IPEndPoint virtualServer);

    [LoggerMessage(EventId = 1003, Level = LogLevel.Warning, Message = "Virtual server {VirtualServer}: accept failed ({Error}); retrying in 100 ms")]
    public static partial void AcceptFailed(ILogger logger, IPEndPoint virtualServer, SocketError error);

    [LoggerMessage(EventId = 1012, Level = LogLevel.Error, Message = "Virtual server {VirtualServer}: accepting on loop {Loop} failed unexpectedly; retrying in 100 ms")]
    public static partial void ListenerCrashed(ILogger logger, IPEndPoint virtualServer, int loop, Exception exception);

    /// <summary>A failed connect. Warning, except while the server is already suspect (Debug: its hold-down warning,
    /// <see cref="RealServerSuspect"/>, was logged once).</summary>
    [LoggerMessage(EventId = 1004,
        Message = "Virtual server {VirtualServer}: connect to real server {RealServer} failed ({Error}); redispatching: {Redispatching}")]
    public static partial void ConnectAttemptFailed(ILogger logger, LogLevel level, IPEndPoint virtualServer, IPEndPoint realServer, SocketError error, bool redispatching);

    [LoggerMessage(EventId = 1005, Level = LogLevel.Information, Message = "Virtual server {VirtualServer}: real server {RealServer} is {State}")]
    public static partial void RealServerState(ILogger logger, IPEndPoint virtualServer, IPEndPoint realServer, string state);

    [LoggerMessage(EventId = 1006, Level = LogLevel.Information,
        Message = "Virtual server {VirtualServer}: configuration applied ({RealServers} real servers, {Draining} draining)")]
    public static partial void ConfigApplied(ILogger logger, IPEndPoint virtualServer, int realServers, int draining);

    [LoggerMessage(EventId = 1007, Level = LogLevel.Warning,
        Message = "Virtual server {VirtualServer}: drain timed out; the remaining connections were closed")]
    public static partial void DrainTimedOut(ILogger logger, IPEndPoint virtualServer);

    [LoggerMessage(EventId = 1008, Level = LogLevel.Error, Message = "Virtual server {VirtualServer}: failure sink threw")]
    public static partial void FailureSinkThrew(ILogger logger, IPEndPoint virtualServer, Exception exception);

    [LoggerMessage(EventId = 1010, Level = LogLevel.Warning,
        Message = "Virtual server {VirtualServer}: connect to real server {RealServer} failed ({Error}); suspect: no new clients for {HoldDownMs} ms or until a health check reports it up; redispatching: {Redispatching}")]
    public static partial void RealServerSuspect(ILogger logger, IPEndPoint virtualServer, IPEndPoint realServer, SocketError error, long holdDownMs, bool redispatching);

    /// <summary>A transparent connect could not take the client's address. Error the first time, then Debug until a
    /// bind succeeds: the cause (a missing capability) repeats for every client.</summary>
    [LoggerMessage(EventId = 1011,
        Message = "Virtual server {VirtualServer} (transparent): cannot connect from client address {Client} ({Error}): {Reason}; the client is closed")]
    public static partial void TransparentBindFailed(ILogger logger, LogLevel level, IPEndPoint virtualServer, IPAddress client, SocketError error, string reason);

    [LoggerMessage(EventId = 1009, Level = LogLevel.Error, Message = "Virtual server {VirtualServer}: connection {ConnectionId} failed unexpectedly")]
    public static partial void ConnectionCrashed(ILogger logger, IPEndPoint virtualServer, long connectionId, Exception exception);
}

/// <summary>The event loops' own log messages.</summary>
internal static partial class LoopLog
{
    [LoggerMessage(EventId = 1100, Level = LogLevel.Critical, Message = "Forwarder event loop {Loop} failed; its connections are lost")]
    public static partial void LoopFailed(ILogger logger, int loop, Exception exception);

    [LoggerMessage(EventId = 1101, Level = LogLevel.Error, Message = "Forwarder event loop {Loop}: closing a failed connection failed too")]
    public static partial void CrashHandlingFailed(ILogger logger, int loop, Exception exception);

    [LoggerMessage(EventId = 1102, Level = LogLevel.Error, Message = "Forwarder event loop {Loop}: a control operation failed")]
    public static partial void ControlFailed(ILogger logger, int loop, Exception exception);
}
