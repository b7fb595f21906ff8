using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Logging;

namespace VipProxy.Host.Metrics;

/// <summary>
/// A minimal HTTP/1.0 endpoint for Prometheus: <c>GET /metrics</c> only, one request per connection, bounded
/// request size and time. It listens only where <c>metrics_listen</c> says (loopback unless an address is given).
/// </summary>
public sealed partial class MetricsHttpServer : IAsyncDisposable
{
    private const int MaxRequestBytes = 8192;

    private readonly IPEndPoint _endpoint;
    private readonly Func<string> _scrape;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop = new();
    private Socket? _listener;
    private Task? _acceptLoop;

    public MetricsHttpServer(IPEndPoint endpoint, Func<string> scrape, ILogger logger)
    {
        _endpoint = endpoint;
        _scrape = scrape;
        _logger = logger;
    }

    public IPEndPoint? LocalEndpoint => _listener?.LocalEndPoint as IPEndPoint;

    public void Start()
    {
        var listener = new Socket(_endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            listener.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            listener.Bind(_endpoint);
            listener.Listen(64);
        }
        catch
        {
            listener.Dispose();
            throw;
        }

        _listener = listener;
        _acceptLoop = Control.RequestServer.AcceptLoopAsync(listener, ServeAsync, _stop.Token);
        LogListening(_logger, LocalEndpoint!);
    }

    private async Task ServeAsync(Socket client, CancellationToken cancellation)
    {
        try
        {
            string? requestLine = await ReadRequestLineAsync(client, cancellation).ConfigureAwait(false);
            string[] parts = requestLine?.Split(' ') ?? [];
            (string status, string body) = parts.Length >= 2 && parts[0] == "GET" && (parts[1] == "/metrics" || parts[1].StartsWith("/metrics?", StringComparison.Ordinal))
                ? ("200 OK", _scrape())
                : ("404 Not Found", "metrics are at /metrics\n");
            byte[] payload = Encoding.UTF8.GetBytes(body);
            string head = $"HTTP/1.0 {status}\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\nContent-Length: {payload.Length}\r\nConnection: close\r\n\r\n";
            await client.SendAsync(Encoding.ASCII.GetBytes(head), SocketFlags.None, cancellation).ConfigureAwait(false);
            await client.SendAsync(payload, SocketFlags.None, cancellation).ConfigureAwait(false);
            client.Shutdown(SocketShutdown.Send);
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException)
        {
            LogClientFailed(_logger, e.Message);
        }
    }

    // Reads until the end of the request head, and returns its first line.
    private static async Task<string?> ReadRequestLineAsync(Socket client, CancellationToken cancellation)
    {
        byte[] buffer = new byte[MaxRequestBytes];
        int filled = 0;
        while (filled < buffer.Length)
        {
            int read = await client.ReceiveAsync(buffer.AsMemory(filled), SocketFlags.None, cancellation).ConfigureAwait(false);
            if (read == 0)
            {
                break;
            }

            filled += read;
            if (buffer.AsSpan(0, filled).IndexOf("\r\n\r\n"u8) >= 0 || buffer.AsSpan(0, filled).IndexOf("\n\n"u8) >= 0)
            {
                break;
            }
        }

        string head = Encoding.ASCII.GetString(buffer, 0, filled);
        int end = head.IndexOf('\n', StringComparison.Ordinal);
        return end < 0 ? null : head[..end].TrimEnd('\r');
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        _listener?.Dispose();
        if (_acceptLoop is not null)
        {
            await _acceptLoop.ConfigureAwait(false);
        }

        _stop.Dispose();
    }

    [LoggerMessage(EventId = 600, Level = LogLevel.Information, Message = "Prometheus metrics at http://{Endpoint}/metrics")]
    private static partial void LogListening(ILogger logger, IPEndPoint endpoint);

    [LoggerMessage(EventId = 601, Level = LogLevel.Debug, Message = "metrics client failed: {Reason}")]
    private static partial void LogClientFailed(ILogger logger, string reason);
}
