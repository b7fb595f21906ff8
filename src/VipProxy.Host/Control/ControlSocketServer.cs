using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Logging;

namespace VipProxy.Host.Control;

/// <summary>
/// The control socket: a Unix domain socket, mode 0600, that answers <c>status</c> with the JSON report.
/// Nothing listens on a network address for control, so only the local administrator can ask.
/// </summary>
public sealed partial class ControlSocketServer : IAsyncDisposable
{
    public const string DefaultPath = "/run/vipproxy/control.sock";

    private readonly string _path;
    private readonly Func<string> _statusJson;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop = new();
    private Socket? _listener;
    private Task? _acceptLoop;

    public ControlSocketServer(string path, Func<string> statusJson, ILogger logger)
    {
        _path = path;
        _statusJson = statusJson;
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
            using var reader = new StreamReader(stream, Encoding.UTF8, leaveOpen: true);
            string command = (await reader.ReadLineAsync(cancellation).ConfigureAwait(false) ?? "").Trim();
            string reply = command switch
            {
                "status" => _statusJson(),
                _ => $"{{\"error\": \"unknown command '{command.Replace("\"", "", StringComparison.Ordinal)}'; try 'status'\"}}",
            };
            byte[] bytes = Encoding.UTF8.GetBytes(reply + "\n");
            await stream.WriteAsync(bytes, cancellation).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException)
        {
            LogClientFailed(_logger, e.Message);
        }
    }

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
