using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace VipProxy.Bench.Helpers;

/// <summary>
/// `hold-connections HOST PORT COUNT HOLD_SECONDS`: opens COUNT TCP connections (at most 200 connects in flight,
/// 5 s each), prints "held OK FAILED", then keeps them open, sending nothing, until HOLD_SECONDS pass or it is
/// killed. Runs inside the client's namespace for the idle-connection workload.
/// </summary>
internal static class HoldConnections
{
    private const int ConcurrentConnects = 200;
    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(5);

    public static async Task<int> RunAsync(IReadOnlyList<string> arguments)
    {
        if (arguments.Count != 4)
        {
            await Console.Error.WriteLineAsync("usage: hold-connections HOST PORT COUNT HOLD_SECONDS");
            return 2;
        }

        var endpoint = new IPEndPoint(IPAddress.Parse(arguments[0]), int.Parse(arguments[1], CultureInfo.InvariantCulture));
        var count = int.Parse(arguments[2], CultureInfo.InvariantCulture);
        var hold = TimeSpan.FromSeconds(int.Parse(arguments[3], CultureInfo.InvariantCulture));

        var sockets = new Socket?[count];
        var failures = 0;
        using (var gate = new SemaphoreSlim(ConcurrentConnects))
        {
            var connects = Enumerable.Range(0, count).Select(async i =>
            {
                await gate.WaitAsync();
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                try
                {
                    using var timeout = new CancellationTokenSource(ConnectTimeout);
                    await socket.ConnectAsync(endpoint, timeout.Token);
                    sockets[i] = socket;
                }
                catch (Exception e) when (e is SocketException or OperationCanceledException)
                {
                    socket.Dispose();
                    Interlocked.Increment(ref failures);
                }
                finally
                {
                    gate.Release();
                }
            });
            await Task.WhenAll(connects);
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"held {count - failures} {failures}"));
        Console.Out.Flush();
        await Task.Delay(hold);
        foreach (var socket in sockets)
        {
            socket?.Dispose();
        }

        return 0;
    }
}
