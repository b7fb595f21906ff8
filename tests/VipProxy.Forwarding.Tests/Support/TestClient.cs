using System.Net;
using System.Net.Sockets;
using System.Text;

namespace VipProxy.Forwarding.Tests.Support;

/// <summary>Client-side helpers over plain sockets.</summary>
internal static class TestClient
{
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(20);

    /// <summary>Connects, optionally from a chosen loopback source address (127.0.0.x gives distinct clients).</summary>
    public static async Task<Socket> ConnectAsync(IPEndPoint endpoint, string? from = null)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        if (from is not null)
        {
            socket.Bind(new IPEndPoint(IPAddress.Parse(from), 0));
        }

        using var timeout = new CancellationTokenSource(Deadline);
        await socket.ConnectAsync(endpoint, timeout.Token);
        return socket;
    }

    /// <summary>Reads one '\n'-terminated line; null when the connection ends first.</summary>
    public static async Task<string?> ReadLineAsync(Socket socket)
    {
        var line = new StringBuilder();
        var one = new byte[1];
        using var timeout = new CancellationTokenSource(Deadline);
        while (true)
        {
            int read = await socket.ReceiveAsync(one, SocketFlags.None, timeout.Token);
            if (read == 0)
            {
                return null;
            }

            if (one[0] == '\n')
            {
                return line.ToString();
            }

            line.Append((char)one[0]);
        }
    }

    /// <summary>Connects through the proxy and returns the name the real server announced.</summary>
    public static async Task<string?> WhoAnswersAsync(IPEndPoint endpoint, string? from = null)
    {
        using Socket socket = await ConnectAsync(endpoint, from);
        return await ReadLineAsync(socket);
    }

    /// <summary>Sends a line and reads the echo.</summary>
    public static async Task<string?> EchoAsync(Socket socket, string text)
    {
        await socket.SendAsync(Encoding.ASCII.GetBytes(text + "\n"));
        return await ReadLineAsync(socket);
    }

    /// <summary>Reads until EOF and returns the byte count; throws SocketException on reset.</summary>
    public static async Task<long> DrainAsync(Socket socket, CancellationToken cancellationToken)
    {
        var buffer = new byte[64 * 1024];
        long total = 0;
        while (true)
        {
            int read = await socket.ReceiveAsync(buffer, SocketFlags.None, cancellationToken);
            if (read == 0)
            {
                return total;
            }

            total += read;
        }
    }

    /// <summary>Resets a socket: RST instead of FIN.</summary>
    public static void Reset(Socket socket)
    {
        socket.LingerState = new LingerOption(true, 0);
        socket.Dispose();
    }
}
