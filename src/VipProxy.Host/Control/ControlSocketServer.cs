using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Logging;

namespace VipProxy.Host.Control;

/// <summary>
/// The control socket: a Unix domain socket, mode 0600, that answers <c>status</c> with the JSON report and the
/// operator's requests (one line of JSON, see <see cref="ControlRequest"/>) with a <see cref="ControlReply"/>.
/// Nothing listens on a network address for control, so only the local administrator can ask.
/// </summary>
public sealed partial class ControlSocketServer : IAsyncDisposable
{
    public const string DefaultPath = "/run/vipproxy/control.sock";

    private readonly string _path;
    private readonly Func<string> _statusJson;
    private readonly Func<string, CancellationToken, Task<string>>? _handle;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop = new();
    private Socket? _listener;
    private Task? _acceptLoop;

    public ControlSocketServer(string path, Func<string> statusJson, ILogger logger)
        : this(path, statusJson, null, logger)
    {
    }

    /// <param name="path">The socket file.</param>
    /// <param name="statusJson">Answers <c>status</c>.</param>
    /// <param name="handle">Answers any other request line (a JSON <see cref="ControlRequest"/>); null: only
    /// <c>status</c> is known.</param>
    /// <param name="logger">Where client failures go.</param>
    public ControlSocketServer(string path, Func<string> statusJson, Func<string, CancellationToken, Task<string>>? handle, ILogger logger)
    {
        _path = path;
        _statusJson = statusJson;
        _handle = handle;
        _logger = logger;
    }

    public void Start()
    {
        string? directory = Path.GetDirectoryName(_path);
        if (!string.IsNullOrEmpty(directory) && !Directory.Exists(directory))
        {
            Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        RemoveStaleSocket();
        var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            listener.Bind(new UnixDomainSocketEndPoint(_path));
            // Owner only: status reveals topology and health. chmod after bind leaves a tiny window, so the
            // directory (0700 when we create it) is the real fence; the mode is belt and braces.
            File.SetUnixFileMode(_path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            listener.Listen(16);
        }
        catch
        {
            listener.Dispose();
            throw;
        }

        _listener = listener;
        _acceptLoop = RequestServer.AcceptLoopAsync(listener, ServeAsync, _stop.Token);
        LogListening(_logger, _path);
    }

    // A socket file left by a killed process would make bind fail; remove it only when nobody answers on it.
    private void RemoveStaleSocket()
    {
        if (!File.Exists(_path))
        {
            return;
        }

        using var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            probe.Connect(new UnixDomainSocketEndPoint(_path));
            throw new InvalidOperationException($"another vipproxy is already serving the control socket {_path}; use --socket to run a second node");
        }
        catch (SocketException)
        {
            File.Delete(_path);
        }
    }

    private async Task ServeAsync(Socket client, CancellationToken cancellation)
    {
        try
        {
            await using var stream = new NetworkStream(client, ownsSocket: false);
            string? command = await ReadRequestLineAsync(stream, cancellation).ConfigureAwait(false);
            string reply = command switch
            {
                null => Refusal($"request longer than {ControlProtocol.MaxRequestBytes} bytes; nothing was changed"),
                "status" => _statusJson(),
                _ when _handle is not null && command.StartsWith('{') => await _handle(command, cancellation).ConfigureAwait(false),
                _ => Refusal($"unknown command '{Shorten(command)}'; try 'status' or a JSON request"),
            };
            byte[] bytes = Encoding.UTF8.GetBytes(reply + "\n");
            await stream.WriteAsync(bytes, cancellation).ConfigureAwait(false);
            if (command is null)
            {
                // Closing with unread bytes would reset the connection and could destroy the reply before the client
                // reads it: end our side, then discard what the client still sends (bounded by the request timeout).
                client.Shutdown(SocketShutdown.Send);
                byte[] discard = new byte[ControlProtocol.MaxRequestBytes];
                while (await stream.ReadAsync(discard, cancellation).ConfigureAwait(false) > 0)
                {
                }
            }
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException)
        {
            LogClientFailed(_logger, e.Message);
        }
    }

    /// <summary>
    /// The request: bytes up to the first newline (or the end of the stream), trimmed; null when more than
    /// <see cref="ControlProtocol.MaxRequestBytes"/> arrive without one, so a client cannot make the daemon buffer
    /// without bound.
    /// </summary>
    internal static async Task<string?> ReadRequestLineAsync(Stream stream, CancellationToken cancellation)
    {
        byte[] buffer = new byte[ControlProtocol.MaxRequestBytes + 1];
        int length = 0;
        while (length < buffer.Length)
        {
            int read = await stream.ReadAsync(buffer.AsMemory(length), cancellation).ConfigureAwait(false);
            if (read == 0)
            {
                break;
            }

            int newline = Array.IndexOf(buffer, (byte)'\n', length, read);
            length += read;
            if (newline >= 0)
            {
                return Encoding.UTF8.GetString(buffer, 0, newline).Trim();
            }
        }

        return length > ControlProtocol.MaxRequestBytes ? null : Encoding.UTF8.GetString(buffer, 0, length).Trim();
    }

    private static string Refusal(string message) =>
        System.Text.Json.JsonSerializer.Serialize(ControlReply.Refused(message), ControlProtocol.Replies.ControlReply);

    private static string Shorten(string command) => command.Length <= 40 ? command : command[..40] + "…";

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        _listener?.Dispose();
        if (_acceptLoop is not null)
        {
            await _acceptLoop.ConfigureAwait(false);
        }

        try
        {
            File.Delete(_path);
        }
        catch (IOException)
        {
        }

        _stop.Dispose();
    }

    [LoggerMessage(EventId = 500, Level = LogLevel.Information, Message = "control socket listening on {Path}")]
    private static partial void LogListening(ILogger logger, string path);

    [LoggerMessage(EventId = 501, Level = LogLevel.Debug, Message = "control client failed: {Reason}")]
    private static partial void LogClientFailed(ILogger logger, string reason);
}
