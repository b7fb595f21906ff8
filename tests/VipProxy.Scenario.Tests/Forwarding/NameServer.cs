using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using VipProxy.Lab;

namespace VipProxy.Scenario.Tests.Forwarding;

/// <summary>
/// A real server that answers every connection with its own name and a newline, then closes: a separate process
/// (python3) inside a real-server host, so that killing it is a crash as the kernel sees it.
/// </summary>
internal static class NameServer
{
    public const int Port = 9000;

    private const string Script = """
        import socket, sys
        name = (sys.argv[1] + "\n").encode()
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((sys.argv[2], int(sys.argv[3])))
        s.listen(512)
        print("listening", flush=True)
        while True:
            c, _ = s.accept()
            try:
                c.sendall(name)
            except OSError:
                pass
            c.close()
        """;

    private static string Python { get; } = File.Exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";

    /// <summary>Starts the server on <paramref name="host"/>'s address and waits until it listens.</summary>
    public static async Task<LanProcess> StartAsync(LanHost host, int port = Port)
    {
        var process = host.Start(Python, "-u", "-c", Script, host.Name, host.Address.ToString(), port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        await process.WaitForOutputAsync("listening", TimeSpan.FromSeconds(15));
        return process;
    }
}

/// <summary>One client connection through the VIP, from the client host.</summary>
internal static class NameClient
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(5);

    /// <summary>The outcome of one connection: the name read, or why nothing was.</summary>
    public sealed record Outcome(string? Name, string? Error, IPEndPoint? Local, TimeSpan At)
    {
        public bool Succeeded => Name is { Length: > 0 };
    }

    /// <summary>Connects, reads the name to EOF, closes; throws if no name arrives.</summary>
    public static async Task<string> WhoAnswersAsync(NamespaceThread client, IPEndPoint virtualServer, IPAddress? source = null)
    {
        var outcome = await TryAsync(client, virtualServer, source, Stopwatch.StartNew());
        return outcome.Name ?? throw new InvalidOperationException($"no answer from {virtualServer} (local {outcome.Local}): {outcome.Error}");
    }

    /// <summary>Connects, reads to EOF within 5 s; never throws for network errors.</summary>
    public static async Task<Outcome> TryAsync(NamespaceThread client, IPEndPoint virtualServer, IPAddress? source, Stopwatch clock)
    {
        using var socket = await client.CreateTcpSocketAsync(source);
        using var deadline = new CancellationTokenSource(Deadline);
        IPEndPoint? local = null;
        try
        {
            await socket.ConnectAsync(virtualServer, deadline.Token);
            local = (IPEndPoint?)socket.LocalEndPoint;
            var buffer = new byte[256];
            int filled = 0;
            int read;
            while ((read = await socket.ReceiveAsync(buffer.AsMemory(filled), SocketFlags.None, deadline.Token)) > 0)
            {
                filled += read;
                if (filled == buffer.Length)
                {
                    return new Outcome(null, "answer too long", local, clock.Elapsed);
                }
            }

            string name = Encoding.ASCII.GetString(buffer, 0, filled).Trim();
            return name.Length > 0
                ? new Outcome(name, null, local, clock.Elapsed)
                : new Outcome(null, "closed without an answer", local, clock.Elapsed);
        }
        catch (SocketException e)
        {
            return new Outcome(null, e.SocketErrorCode.ToString(), local ?? (IPEndPoint?)socket.LocalEndPoint, clock.Elapsed);
        }
        catch (OperationCanceledException)
        {
            return new Outcome(null, "timed out", local, clock.Elapsed);
        }
    }
}
