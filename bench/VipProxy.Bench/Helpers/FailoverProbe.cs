using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using VipProxy.Bench.Infrastructure;

namespace VipProxy.Bench.Helpers;

/// <summary>
/// `probe HOST PORT INTERVAL_MS MAX_SECONDS`: starts a new HTTP request over a new TCP connection every
/// INTERVAL_MS (each given 1 s, at most 200 in flight) and prints "ok START END" (CLOCK_MONOTONIC ns) for each one
/// that got an HTTP 200 status line back. A whole request, not just a connect: a full proxy accepts even when it
/// cannot reach a real server. Overlapping attempts keep the resolution at INTERVAL_MS although a SYN lost to a
/// dead master waits a second for its retransmission. Exits after MAX_SECONDS.
/// </summary>
internal static class FailoverProbe
{
    private const int MaxInFlight = 200;
    private static readonly TimeSpan AttemptTimeout = TimeSpan.FromSeconds(1);
    private static readonly byte[] Request = Encoding.ASCII.GetBytes($"GET {ServicePorts.HttpPath} HTTP/1.0\r\n\r\n");
    private static readonly byte[] ExpectedStatus = Encoding.ASCII.GetBytes("HTTP/1.1 200");
    private static readonly Lock OutputGate = new();

    public static async Task<int> RunAsync(IReadOnlyList<string> arguments)
    {
        if (arguments.Count != 4)
        {
            await Console.Error.WriteLineAsync("usage: probe HOST PORT INTERVAL_MS MAX_SECONDS");
            return 2;
        }

        var endpoint = new IPEndPoint(IPAddress.Parse(arguments[0]), int.Parse(arguments[1], CultureInfo.InvariantCulture));
        var interval = TimeSpan.FromMilliseconds(int.Parse(arguments[2], CultureInfo.InvariantCulture));
        var end = DateTime.UtcNow + TimeSpan.FromSeconds(int.Parse(arguments[3], CultureInfo.InvariantCulture));
        var inFlight = 0;
        var attempts = new List<Task>();
        using var timer = new PeriodicTimer(interval);
        do
        {
            if (Volatile.Read(ref inFlight) < MaxInFlight)
            {
                Interlocked.Increment(ref inFlight);
                attempts.Add(Task.Run(async () =>
                {
                    try
                    {
                        await AttemptAsync(endpoint);
                    }
                    finally
                    {
                        Interlocked.Decrement(ref inFlight);
                    }
                }));
                attempts.RemoveAll(t => t.IsCompleted);
            }
        }
        while (DateTime.UtcNow < end && await timer.WaitForNextTickAsync());

        await Task.WhenAll(attempts);
        return 0;
    }

    private static async Task AttemptAsync(IPEndPoint endpoint)
    {
        var start = MonotonicClock.NowNanoseconds();
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        using var timeout = new CancellationTokenSource(AttemptTimeout);
        try
        {
            await socket.ConnectAsync(endpoint, timeout.Token);
            await socket.SendAsync(Request, SocketFlags.None, timeout.Token);
            var buffer = new byte[ExpectedStatus.Length];
            var received = 0;
            while (received < buffer.Length)
            {
                var read = await socket.ReceiveAsync(buffer.AsMemory(received), SocketFlags.None, timeout.Token);
                if (read == 0)
                {
                    return;
                }

                received += read;
            }

            if (buffer.AsSpan().SequenceEqual(ExpectedStatus))
            {
                var finish = MonotonicClock.NowNanoseconds();
                lock (OutputGate)
                {
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"ok {start} {finish}"));
                    Console.Out.Flush();
                }
            }
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException)
        {
            // A failed attempt is the outage being measured: silence is the signal.
        }
    }
}
