using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace VipProxy.Host.Control;

/// <summary>
/// The control socket's requests beyond <c>status</c>: one line of JSON, at most
/// <see cref="ControlProtocol.MaxRequestBytes"/> bytes, answered by one <see cref="ControlReply"/>. Field names are part
/// of the interface scripts use: add fields, never rename them.
/// </summary>
/// <param name="Command">server-drain, server-disable, server-enable, server-weight, server-shutdown-sessions,
/// connections, connections-kill, vrrp-demote, vrrp-resume.</param>
public sealed record ControlRequest(string? Command)
{
    /// <summary>The virtual server, <c>ADDR:PORT</c>.</summary>
    public string? VirtualServer { get; init; }

    /// <summary>The real server, <c>ADDR:PORT</c>.</summary>
    public string? RealServer { get; init; }

    /// <summary>server-weight: the weight (0..65535).</summary>
    public long? Weight { get; init; }

    /// <summary>server-disable: also close the established connections.</summary>
    public bool ShutdownSessions { get; init; }

    /// <summary>connections-kill: the connection ids.</summary>
    public IReadOnlyList<long>? Ids { get; init; }

    /// <summary>vrrp-demote, vrrp-resume: the vrrp_instance name.</summary>
    public string? Instance { get; init; }
}

/// <summary>The answer to a <see cref="ControlRequest"/>.</summary>
/// <param name="Ok">False when nothing was changed because the request was refused.</param>
/// <param name="Message">What was done (Ok), or why not (not Ok), in one sentence for people.</param>
public sealed record ControlReply(bool Ok, string Message)
{
    /// <summary>When the request named something unknown: the names that are valid.</summary>
    public IReadOnlyList<string>? Valid { get; init; }

    /// <summary>connections: the live connections.</summary>
    public IReadOnlyList<ConnectionReport>? Connections { get; init; }

    /// <summary>Connections closed (server-disable --shutdown-sessions, server-shutdown-sessions, connections-kill).</summary>
    public int? Closed { get; init; }

    /// <summary>The real server's operator state after the request.</summary>
    public Operations.ServerOverride? Server { get; init; }

    public static ControlReply Refused(string message, IReadOnlyList<string>? valid = null) => new(false, message) { Valid = valid };
}

/// <summary>One live proxied connection, as <c>vipproxy connections</c> lists it.</summary>
public sealed record ConnectionReport(
    long Id,
    string? Client,
    string VirtualServer,
    string? RealServer,
    double AgeSeconds,
    double IdleSeconds,
    long BytesFromClient,
    long BytesToServer,
    long BytesFromServer,
    long BytesToClient);

public static class ControlProtocol
{
    /// <summary>The longest request line; a longer one is refused unread (a request is a few hundred bytes).</summary>
    public const int MaxRequestBytes = 4096;

    /// <summary>The replies as people read them with <c>--json</c>: quotes and apostrophes in messages stay as
    /// they are rather than \u0027 escapes (the socket is local; nothing renders it as HTML).</summary>
    public static ControlJsonContext Replies { get; } = new(new JsonSerializerOptions
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    });
}

/// <summary>Source-generated JSON for the control requests and replies, snake_case like the status.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, WriteIndented = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ControlReply))]
public sealed partial class ControlJsonContext : JsonSerializerContext;

/// <summary>Source-generated JSON for the requests: on one line, since a request ends at its newline.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, WriteIndented = false,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ControlRequest))]
public sealed partial class ControlRequestJsonContext : JsonSerializerContext;
