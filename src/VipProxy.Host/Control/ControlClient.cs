using System.Net.Sockets;
using System.Text;

namespace VipProxy.Host.Control;

/// <summary>Asks a running vipproxy over its control socket (<c>vipproxy status</c>).</summary>
public static class ControlClient
{
    public static async Task<string> RequestAsync(string socketPath, string command, TimeSpan timeout)
    {
        using var cancellation = new CancellationTokenSource(timeout);
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), cancellation.Token).ConfigureAwait(false);
        await using var stream = new NetworkStream(socket, ownsSocket: false);
        await stream.WriteAsync(Encoding.UTF8.GetBytes(command + "\n"), cancellation.Token).ConfigureAwait(false);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return await reader.ReadToEndAsync(cancellation.Token).ConfigureAwait(false);
    }
}
