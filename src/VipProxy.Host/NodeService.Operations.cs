using System.Globalization;
using System.Net;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using VipProxy.Forwarding.Relay;
using VipProxy.Forwarding.Runtime;
using VipProxy.Host.Control;
using VipProxy.Host.Operations;

namespace VipProxy.Host;

/// <summary>
/// The operator's runtime commands on the control socket (<c>vipproxy server|connections|vrrp …</c>). Each is
/// checked in full before anything changes (an unknown name or a bad value changes nothing), recorded in the state
/// file first (so what is in force is what survives a restart), then applied to the planes, logged, and answered.
/// Commands and reloads take turns on the reload gate, so a command never lands on a plane half-way through a reload.
/// </summary>
public sealed partial class NodeService
{
    private const int MaxKillIds = 1024;

    private OperatorState _operatorState = OperatorState.Empty;

    // The file the state was read from: a reload that moves state_file writes the state to the new place.
    private string? _stateFilePath;

    /// <summary>The operator state in force (what the state file holds).</summary>
    public OperatorState OperatorState => Volatile.Read(ref _operatorState);

    /// <summary>Reads the state file at start; an unreadable file is logged and the node starts without overrides
    /// (it is rewritten at the next operator command).</summary>
    private void LoadOperatorState()
    {
        string path = _config.Global.StateFile;
        _stateFilePath = path;
        try
        {
            _operatorState = OperatorStateFile.Load(path);
            if (_operatorState.Servers.Length + _operatorState.Instances.Length > 0)
            {
                LogStateLoaded(_logger, path, _operatorState.Servers.Length, _operatorState.Instances.Length);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException)
        {
            LogStateUnreadable(_logger, path, e.Message);
            _operatorState = OperatorState.Empty;
        }
    }

    /// <summary>
    /// At start and after a reload: entries for servers and instances that no longer exist are dropped (and the file
    /// rewritten), the rest applied again, so an overridden server keeps its drain whatever the reload changed.
    /// </summary>
    private void ReconcileOperatorState()
    {
        var (kept, dropped) = _operatorState.KeepExisting(
            (virtualServer, realServer) => _forwarding?.Find(virtualServer)?.RealServerEndpoints.Contains(realServer) ?? false,
            instance => _config.VrrpInstances.Any(i => i.Name == instance));
        foreach (string entry in dropped)
        {
            LogStateDropped(_logger, entry);
        }

        bool moved = _stateFilePath != _config.Global.StateFile;
        if (dropped.Length > 0 || (moved && (kept.Servers.Length + kept.Instances.Length) > 0))
        {
            TrySave(kept);
        }

        _stateFilePath = _config.Global.StateFile;

        Volatile.Write(ref _operatorState, kept);
        foreach (ServerOverride entry in kept.Servers)
        {
            if (entry.TryParse(out IPEndPoint? virtualServer, out IPEndPoint? realServer))
            {
                _forwarding?.Find(virtualServer)?.SetOperatorState(realServer, entry.ToForwarding());
            }
        }

        foreach (InstanceOverride entry in kept.Instances)
        {
            _vrrp?.SetDemoted(entry.Instance, true);
        }
    }

    private string? TrySave(OperatorState state)
    {
        try
        {
            OperatorStateFile.Save(_config.Global.StateFile, state);
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            LogStateUnwritable(_logger, _config.Global.StateFile, e.Message);
            return $"cannot write the state file {_config.Global.StateFile}: {e.Message}; nothing was changed";
        }
    }

    /// <summary>One request line from the control socket: parsed, run under the reload gate, answered as JSON.</summary>
    internal async Task<string> HandleControlAsync(string line, CancellationToken cancellation)
    {
        ControlReply reply;
        ControlRequest? request;
        try
        {
            request = JsonSerializer.Deserialize(line, ControlRequestJsonContext.Default.ControlRequest);
        }
        catch (JsonException e)
        {
            reply = ControlReply.Refused($"malformed request: {e.Message}; nothing was changed");
            LogOperatorRefused(_logger, "?", reply.Message);
            return Serialize(reply);
        }

        if (request?.Command is not { } command)
        {
            reply = ControlReply.Refused("malformed request: no \"command\"; nothing was changed");
            LogOperatorRefused(_logger, "?", reply.Message);
            return Serialize(reply);
        }

        await _reloadGate.WaitAsync(cancellation).ConfigureAwait(false);
        try
        {
            reply = command switch
            {
                "server-drain" => ChangeServer(request, state => state with { Mode = OperatorMode.Drain }),
                "server-disable" => await DisableAsync(request).ConfigureAwait(false),
                "server-enable" => ChangeServer(request, _ => RealServerOperatorState.None),
                "server-weight" => Weight(request),
                "server-shutdown-sessions" => await ShutdownSessionsAsync(request).ConfigureAwait(false),
                "connections" => await ConnectionsAsync(request).ConfigureAwait(false),
                "connections-kill" => await KillAsync(request).ConfigureAwait(false),
                "vrrp-demote" => Demote(request, demoted: true),
                "vrrp-resume" => Demote(request, demoted: false),
                _ => ControlReply.Refused($"unknown command '{command}'", KnownCommands),
            };
        }
        finally
        {
            _reloadGate.Release();
        }

        if (reply.Ok)
        {
            if (command != "connections")
            {
                LogOperator(_logger, command, reply.Message);
            }
        }
        else
        {
            LogOperatorRefused(_logger, command, reply.Message);
        }

        return Serialize(reply);
    }

    private static readonly string[] KnownCommands =
    [
        "server-drain", "server-disable", "server-enable", "server-weight", "server-shutdown-sessions",
        "connections", "connections-kill", "vrrp-demote", "vrrp-resume",
    ];

    private static string Serialize(ControlReply reply) => JsonSerializer.Serialize(reply, ControlProtocol.Replies.ControlReply);

    private ControlReply Weight(ControlRequest request)
    {
        if (request.Weight is not { } weight)
        {
            return ControlReply.Refused("server-weight needs a weight; nothing was changed");
        }

        if (weight is < 0 or > RealServerOperatorState.MaxWeight)
        {
            return ControlReply.Refused(string.Create(CultureInfo.InvariantCulture,
                $"weight {weight} is out of range: it must be from 0 to {RealServerOperatorState.MaxWeight} (as the weight keyword); nothing was changed"));
        }

        return ChangeServer(request, state => state with { Weight = (int)weight });
    }

    private async Task<ControlReply> DisableAsync(ControlRequest request)
    {
        ControlReply reply = ChangeServer(request, state => state with { Mode = OperatorMode.Disable });
        if (!reply.Ok)
        {
            return reply;
        }

        var (runtime, realServer, _) = Resolve(request);
        if (!request.ShutdownSessions)
        {
            // shutdown_sessions_on_down covers an operator's disable too, after the same grace.
            if (runtime!.Config.RealServers.FirstOrDefault(r => r.Endpoint.Equals(realServer)) is { ShutdownSessionsOnDown: { } grace })
            {
                IPEndPoint virtualServer = runtime.Endpoint;
                _sessionShutdown.After(runtime, realServer!, grace,
                    () => OperatorState.Find(virtualServer, realServer!)?.ToForwarding().Mode == OperatorMode.Disable, "disabled by an operator");
            }

            return reply;
        }

        int closed = await runtime!.CloseConnectionsToAsync(realServer!, CloseReason.SessionsShutdown).ConfigureAwait(false);
        return reply with
        {
            Message = reply.Message.Replace(", established connections continue", "", StringComparison.Ordinal)
                + string.Create(CultureInfo.InvariantCulture, $"; {closed} established connection(s) closed"),
            Closed = closed,
        };
    }

    private async Task<ControlReply> ShutdownSessionsAsync(ControlRequest request)
    {
        var (runtime, realServer, refusal) = Resolve(request);
        if (refusal is not null)
        {
            return refusal;
        }

        int closed = await runtime!.CloseConnectionsToAsync(realServer!, CloseReason.SessionsShutdown).ConfigureAwait(false);
        return new ControlReply(true, string.Create(CultureInfo.InvariantCulture,
            $"real_server {realServer} of virtual_server {runtime.Endpoint}: {closed} established connection(s) closed"))
        {
            Closed = closed,
            Server = OperatorState.Find(runtime.Endpoint, realServer!),
        };
    }

    /// <summary>drain, disable, enable, weight: the new override from the current one, saved, then applied.</summary>
    private ControlReply ChangeServer(ControlRequest request, Func<RealServerOperatorState, RealServerOperatorState> change)
    {
        var (runtime, realServer, refusal) = Resolve(request);
        if (refusal is not null)
        {
            return refusal;
        }

        OperatorState current = OperatorState;
        ServerOverride? before = current.Find(runtime!.Endpoint, realServer!);
        RealServerOperatorState previous = before?.ToForwarding() ?? RealServerOperatorState.None;
        RealServerOperatorState next = change(previous);
        OperatorState updated = next == previous ? current : current.WithServer(runtime.Endpoint, realServer!, next, _timeProvider.GetUtcNow());
        if (next != previous && TrySave(updated) is { } failed)
        {
            return ControlReply.Refused(failed);
        }

        Volatile.Write(ref _operatorState, updated);
        runtime.SetOperatorState(realServer!, next);
        string nowText = Describe(next);
        string message = $"real_server {realServer} of virtual_server {runtime.Endpoint}: {nowText}"
            + (next == previous ? " (unchanged)" : $" (was: {Describe(previous)})")
            + (next.Mode != OperatorMode.None ? "; no new connections, established connections continue" : "")
            + (next.IsNone ? "; back to the health checks' verdict" : "");
        return new ControlReply(true, message) { Server = updated.Find(runtime.Endpoint, realServer!) };
    }

    private static string Describe(RealServerOperatorState state) => (state.Mode, state.Weight) switch
    {
        (OperatorMode.None, null) => "enabled",
        (OperatorMode.None, int weight) => string.Create(CultureInfo.InvariantCulture, $"weight {weight}"),
        (OperatorMode mode, null) => ServerOverride.ModeName(mode),
        (OperatorMode mode, int weight) => string.Create(CultureInfo.InvariantCulture, $"{ServerOverride.ModeName(mode)}, weight {weight}"),
    };

    /// <summary>The virtual server and real server a request names, or the refusal that lists the valid ones.</summary>
    private (VirtualServerRuntime? Runtime, IPEndPoint? RealServer, ControlReply? Refusal) Resolve(ControlRequest request)
    {
        var (runtime, refusal) = ResolveVirtualServer(request.VirtualServer, required: true);
        if (refusal is not null)
        {
            return (null, null, refusal);
        }

        if (!TryParseEndpoint(request.RealServer, out IPEndPoint? realServer))
        {
            return (null, null, ControlReply.Refused($"real server '{request.RealServer}' is not ADDR:PORT; nothing was changed"));
        }

        IReadOnlyList<IPEndPoint> servers = runtime!.RealServerEndpoints;
        if (!servers.Contains(realServer))
        {
            return (null, null, ControlReply.Refused(
                $"virtual_server {runtime.Endpoint} has no real_server {realServer}; its real servers: {string.Join(", ", servers)}; nothing was changed",
                [.. servers.Select(s => s.ToString())]));
        }

        return (runtime, realServer, null);
    }

    private (VirtualServerRuntime? Runtime, ControlReply? Refusal) ResolveVirtualServer(string? text, bool required)
    {
        if (text is null && !required)
        {
            return (null, null);
        }

        if (!TryParseEndpoint(text, out IPEndPoint? endpoint))
        {
            return (null, ControlReply.Refused($"virtual server '{text}' is not ADDR:PORT; nothing was changed"));
        }

        if (_forwarding?.Find(endpoint) is { } runtime)
        {
            return (runtime, null);
        }

        string[] valid = [.. (_forwarding?.Runtimes ?? []).Select(r => r.Endpoint.ToString()).Order(StringComparer.Ordinal)];
        return (null, ControlReply.Refused(
            $"no virtual_server {endpoint}; configured: {(valid.Length == 0 ? "none" : string.Join(", ", valid))}; nothing was changed", valid));
    }

    /// <summary><c>ADDR:PORT</c> (IPv6 as <c>[ADDR]:PORT</c>) with an explicit, non-zero port.</summary>
    internal static bool TryParseEndpoint(string? text, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out IPEndPoint? endpoint)
    {
        endpoint = null;
        if (string.IsNullOrWhiteSpace(text) || text.Length > 64 || !IPEndPoint.TryParse(text, out IPEndPoint? parsed) || parsed.Port == 0
            || (parsed.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 && !text.StartsWith('[')))
        {
            return false;
        }

        endpoint = parsed;
        return true;
    }

    private async Task<ControlReply> ConnectionsAsync(ControlRequest request)
    {
        var (only, refusal) = ResolveVirtualServer(request.VirtualServer, required: false);
        if (refusal is not null)
        {
            return refusal;
        }

        IPEndPoint? realServer = null;
        if (request.RealServer is not null && !TryParseEndpoint(request.RealServer, out realServer))
        {
            return ControlReply.Refused($"real server '{request.RealServer}' is not ADDR:PORT");
        }

        VirtualServerRuntime[] runtimes = only is not null ? [only] : [.. (_forwarding?.Runtimes ?? [])];
        if (realServer is not null && !runtimes.Any(r => r.RealServerEndpoints.Contains(realServer)))
        {
            string[] valid = [.. runtimes.SelectMany(r => r.RealServerEndpoints).Select(e => e.ToString()).Distinct().Order(StringComparer.Ordinal)];
            return ControlReply.Refused($"no real_server {realServer}{(only is null ? "" : $" in virtual_server {only.Endpoint}")}; configured: {string.Join(", ", valid)}", valid);
        }

        var rows = new List<ConnectionReport>();
        foreach (VirtualServerRuntime runtime in runtimes)
        {
            foreach (ConnectionStatus c in await runtime.GetConnectionsAsync(realServer).ConfigureAwait(false))
            {
                rows.Add(new ConnectionReport(c.Id, c.Client?.ToString(), runtime.Endpoint.ToString(), c.RealServer?.ToString(),
                    Math.Round(c.Age.TotalSeconds, 3), Math.Round(c.Idle.TotalSeconds, 3), c.BytesFromClient, c.BytesToServer, c.BytesFromServer, c.BytesToClient));
            }
        }

        rows.Sort((a, b) => a.Id.CompareTo(b.Id));
        return new ControlReply(true, string.Create(CultureInfo.InvariantCulture, $"{rows.Count} live connection(s)")) { Connections = rows };
    }

    private async Task<ControlReply> KillAsync(ControlRequest request)
    {
        if (request.Ids is not { Count: > 0 } ids)
        {
            return ControlReply.Refused("connections-kill needs at least one connection id; nothing was changed");
        }

        if (ids.Count > MaxKillIds)
        {
            return ControlReply.Refused(string.Create(CultureInfo.InvariantCulture, $"at most {MaxKillIds} ids per request; nothing was changed"));
        }

        // Every id must name a live connection, or none is closed: a typo must not half-run a command.
        var owners = new Dictionary<long, VirtualServerRuntime>();
        foreach (VirtualServerRuntime runtime in _forwarding?.Runtimes ?? [])
        {
            foreach (long id in await runtime.OpenConnectionIdsAsync().ConfigureAwait(false))
            {
                owners[id] = runtime;
            }
        }

        long[] unknown = [.. ids.Where(id => !owners.ContainsKey(id)).Distinct()];
        if (unknown.Length > 0)
        {
            return ControlReply.Refused(
                $"no live connection with id {string.Join(", ", unknown.Select(i => i.ToString(CultureInfo.InvariantCulture)))} (see 'vipproxy connections'); nothing was closed");
        }

        int closed = 0;
        var closedIds = new List<long>();
        foreach (long id in ids.Distinct())
        {
            // Posted to the loop that owns the connection; closed there, recorded with the operator close reason.
            if (await owners[id].CloseConnectionAsync(id, CloseReason.OperatorClosed).ConfigureAwait(false))
            {
                closed++;
                closedIds.Add(id);
            }
        }

        string message = string.Create(CultureInfo.InvariantCulture,
            $"closed {closed} connection(s): {string.Join(", ", closedIds)} (close reason OperatorClosed)");
        return new ControlReply(true, message) { Closed = closed };
    }

    private ControlReply Demote(ControlRequest request, bool demoted)
    {
        string[] valid = [.. _config.VrrpInstances.Select(i => i.Name)];
        if (request.Instance is not { Length: > 0 } instance || !valid.Contains(instance, StringComparer.Ordinal))
        {
            return ControlReply.Refused(
                $"no vrrp_instance '{request.Instance}'; configured: {(valid.Length == 0 ? "none" : string.Join(", ", valid))}; nothing was changed", valid);
        }

        OperatorState current = OperatorState;
        bool was = current.FindInstance(instance) is not null;
        if (was != demoted)
        {
            OperatorState updated = current.WithInstance(instance, demoted, _timeProvider.GetUtcNow());
            if (TrySave(updated) is { } failed)
            {
                return ControlReply.Refused(failed);
            }

            Volatile.Write(ref _operatorState, updated);
        }

        _vrrp?.SetDemoted(instance, demoted);
        string message = demoted
            ? $"vrrp_instance {instance}: demoted{(was ? " (unchanged)" : "")}; a master leaves with priority 0 and it stays BACKUP until 'vipproxy vrrp resume {instance}'"
            : $"vrrp_instance {instance}: resumed{(was ? "" : " (was not demoted)")}; it takes part in the election again";
        return new ControlReply(true, message);
    }

    [LoggerMessage(EventId = 120, Level = LogLevel.Warning, Message = "operator {Command}: {Change}")]
    private static partial void LogOperator(ILogger logger, string command, string change);

    [LoggerMessage(EventId = 121, Level = LogLevel.Warning, Message = "operator {Command} refused: {Reason}")]
    private static partial void LogOperatorRefused(ILogger logger, string command, string reason);

    [LoggerMessage(EventId = 122, Level = LogLevel.Information, Message = "operator state from {Path}: {Servers} real server override(s), {Instances} demoted instance(s)")]
    private static partial void LogStateLoaded(ILogger logger, string path, int servers, int instances);

    [LoggerMessage(EventId = 123, Level = LogLevel.Error, Message = "state file {Path} is unreadable ({Reason}); starting without operator overrides")]
    private static partial void LogStateUnreadable(ILogger logger, string path, string reason);

    [LoggerMessage(EventId = 124, Level = LogLevel.Warning, Message = "operator state dropped, no longer configured: {Entry}")]
    private static partial void LogStateDropped(ILogger logger, string entry);

    [LoggerMessage(EventId = 125, Level = LogLevel.Error, Message = "cannot write the state file {Path}: {Reason}")]
    private static partial void LogStateUnwritable(ILogger logger, string path, string reason);
}
