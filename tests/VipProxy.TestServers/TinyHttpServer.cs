using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace VipProxy.TestServers;

/// <summary>A response of <see cref="TinyHttpServer"/>.</summary>
/// <param name="Status">Status code.</param>
/// <param name="Body">Body bytes.</param>
/// <param name="SendContentLength">Whether to send Content-Length (else the body ends at the close).</param>
public sealed record TinyHttpResponse(int Status, byte[] Body, bool SendContentLength = true)
{
    public static TinyHttpResponse Text(int status, string body, bool sendContentLength = true) =>
        new(status, Encoding.UTF8.GetBytes(body), sendContentLength);
}

/// <summary>
/// A minimal HTTP/1.0 server on a loopback port: one request per connection, the answer chosen by a function of the
/// path, then close. Remembers the request heads it received.
/// </summary>
public sealed class TinyHttpServer : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly Func<string, TinyHttpResponse> _respond;
    private readonly Task _acceptLoop;
    private readonly CancellationTokenSource _stopping = new();

    public TinyHttpServer(Func<string, TinyHttpResponse> respond, IPAddress? address = null)
    {
        _respond = respond;
        _listener = new TcpListener(address ?? IPAddress.Loopback, 0);
        _listener.Start();
        _acceptLoop = AcceptAsync();
    }

    public IPEndPoint EndPoint => (IPEndPoint)_listener.LocalEndpoint;

    /// <summary>Every request head received (request line and headers).</summary>
    public ConcurrentQueue<string> Requests { get; } = new();

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        _listener.Stop();
        try
        {
            await _acceptLoop;
        }
        catch (OperationCanceledException)
        {
        }
        catch (SocketException)
        {
        }

        _stopping.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!_stopping.IsCancellationRequested)
        {
            Socket socket = await _listener.AcceptSocketAsync(_stopping.Token);
            _ = ServeAsync(socket);
        }
    }

    private async Task ServeAsync(Socket socket)
    {
        using (socket)
        {
            try
            {
                var buffer = new byte[8192];
                int filled = 0;
                int end;
                while ((end = buffer.AsSpan(0, filled).IndexOf("\r\n\r\n"u8)) < 0 && filled < buffer.Length)
                {
                    int read = await socket.ReceiveAsync(buffer.AsMemory(filled), SocketFlags.None, _stopping.Token);
                    if (read == 0)
                    {
                        return;
                    }

                    filled += read;
                }

                string head = Encoding.ASCII.GetString(buffer, 0, Math.Max(end, 0));
                Requests.Enqueue(head);
                string path = head.Split(' ')[1];
                TinyHttpResponse response = _respond(path);
                var text = new StringBuilder($"HTTP/1.0 {response.Status} Whatever\r\nContent-Type: text/plain\r\n");
                if (response.SendContentLength)
                {
                    text.Append($"Content-Length: {response.Body.Length}\r\n");
                }

                text.Append("\r\n");
                await socket.SendAsync(Encoding.ASCII.GetBytes(text.ToString()), SocketFlags.None, _stopping.Token);
                await socket.SendAsync(response.Body, SocketFlags.None, _stopping.Token);
                socket.Shutdown(SocketShutdown.Send);
            }
            catch (Exception e) when (e is SocketException or OperationCanceledException or IndexOutOfRangeException)
            {
                // A test server: a broken request just ends the connection.
            }
        }
    }
}
