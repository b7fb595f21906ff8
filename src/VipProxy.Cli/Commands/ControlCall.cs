using System.Net.Sockets;
using System.Text.Json;
using VipProxy.Host.Control;

namespace VipProxy.Cli.Commands;

/// <summary>
/// One request to the running daemon's control socket, for every command that talks to it (status, server,
/// connections, vrrp): the same messages when no daemon answers, the same <c>--json</c> handling, the same exit codes
/// (0 done, 1 refused or unreachable).
/// </summary>
internal static class ControlCall
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    /// <summary>Sends <paramref name="line"/>; null (after an explanation on <paramref name="errors"/>) when no
    /// daemon answers.</summary>
    public static async Task<string?> RequestAsync(string socketPath, string line, string command, TextWriter errors)
    {
        // connect(2) on a missing socket file fails with ENOENT, which .NET reports as "Cannot assign requested
        // address": say what is actually wrong.
        if (!File.Exists(socketPath))
        {
            await errors.WriteLineAsync(
                $"vipproxy {command}: the control socket {socketPath} does not exist: no vipproxy is running with it (start one with 'vipproxy run', or name its socket with --socket PATH)").ConfigureAwait(false);
            return null;
        }

        try
        {
            return await ControlClient.RequestAsync(socketPath, line, Timeout).ConfigureAwait(false);
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionRefused)
        {
            await errors.WriteLineAsync($"vipproxy {command}: nothing listens on the control socket {socketPath} (left by a vipproxy that was killed?)").ConfigureAwait(false);
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.AccessDenied)
        {
            await errors.WriteLineAsync($"vipproxy {command}: permission denied on the control socket {socketPath}: it is mode 0600, run as the daemon's user").ConfigureAwait(false);
        }
        catch (Exception e) when (e is SocketException or IOException or OperationCanceledException or UnauthorizedAccessException)
        {
            await errors.WriteLineAsync($"vipproxy {command}: no vipproxy answers on {socketPath}: {e.Message}").ConfigureAwait(false);
        }

        return null;
    }

    /// <summary>
    /// Sends <paramref name="request"/> and prints the reply: verbatim with <paramref name="json"/>, else
    /// <paramref name="text"/> of it (default: its message) on stdout, or the refusal on stderr.
    /// </summary>
    public static async Task<int> RunAsync(
        string socketPath, ControlRequest request, bool json, string command, TextWriter output, TextWriter errors, Func<ControlReply, string>? text = null)
    {
        string line = JsonSerializer.Serialize(request, ControlRequestJsonContext.Default.ControlRequest);
        string? reply = await RequestAsync(socketPath, line, command, errors).ConfigureAwait(false);
        if (reply is null)
        {
            return 1;
        }

        ControlReply? parsed = null;
        try
        {
            parsed = JsonSerializer.Deserialize(reply, ControlJsonContext.Default.ControlReply);
        }
        catch (JsonException)
        {
        }

        if (parsed is null)
        {
            await errors.WriteLineAsync($"vipproxy {command}: unreadable reply from the daemon (an older vipproxy?): {reply.Trim()}").ConfigureAwait(false);
            return 1;
        }

        if (json)
        {
            await output.WriteLineAsync(reply.TrimEnd()).ConfigureAwait(false);
        }
        else if (parsed.Ok)
        {
            await output.WriteLineAsync(text?.Invoke(parsed) ?? parsed.Message).ConfigureAwait(false);
        }
        else
        {
            await errors.WriteLineAsync($"vipproxy {command}: {parsed.Message}").ConfigureAwait(false);
        }

        return parsed.Ok ? 0 : 1;
    }
}
