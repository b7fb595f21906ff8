// Relay microbenchmark: the proxy (a VirtualServerRuntime with the relay under test) runs in this process; the load
// (a client pushing bytes and a sink real server discarding them) runs in a child process, so this process's CPU
// time (Process.TotalProcessorTime) is the proxy's alone.
//
//   dotnet run -c Release --project bench/relay-microbench -- [--gib N] [--rounds N] [--streams N]
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using VipProxy.Config.Model;
using VipProxy.Forwarding.Relay;
using VipProxy.Forwarding.Runtime;

if (args.Length > 0 && args[0] == "load")
{
    await LoadProcess.RunAsync();
    return 0;
}

double gib = Option(args, "--gib", 1.0);
int rounds = (int)Option(args, "--rounds", 3);
int streams = (int)Option(args, "--streams", 1);
long bytesPerStream = (long)(gib * (1L << 30)) / streams;

using Process load = StartLoadProcess();
int sinkPort = int.Parse(load.StandardOutput.ReadLine()!.Split(' ')[1], CultureInfo.InvariantCulture);
var results = new List<(RelayKind Relay, double Seconds, double CpuSeconds, long Bytes)>();
Console.WriteLine($"relay microbench: {gib} GiB per run over {streams} stream(s), {rounds} interleaved rounds, {Environment.ProcessorCount} CPUs");
Console.WriteLine("relay        round   wall s   GiB/s   proxy CPU s/GiB");

// One warm-up run per relay (JIT, pools), then interleaved rounds so drift affects both alike.
foreach (RelayKind relay in new[] { RelayKind.SocketCopy, RelayKind.Pipe })
{
    await MeasureAsync(relay, sinkPort, 128L << 20, 1);
}

for (int round = 1; round <= rounds; round++)
{
    foreach (RelayKind relay in new[] { RelayKind.SocketCopy, RelayKind.Pipe })
    {
        var (seconds, cpu) = await MeasureAsync(relay, sinkPort, bytesPerStream, streams);
        long bytes = bytesPerStream * streams;
        results.Add((relay, seconds, cpu, bytes));
        double gibMoved = bytes / (double)(1L << 30);
        Console.WriteLine($"{relay,-12} {round,5} {seconds,8:F2} {gibMoved / seconds,7:F2} {cpu / gibMoved,17:F3}");
    }
}

Console.WriteLine();
Console.WriteLine("median       GiB/s   proxy CPU s/GiB   Gbit/s");
foreach (var group in results.GroupBy(r => r.Relay))
{
    double throughput = Median(group.Select(r => r.Bytes / (double)(1L << 30) / r.Seconds));
    double cpuPerGiB = Median(group.Select(r => r.CpuSeconds / (r.Bytes / (double)(1L << 30))));
    Console.WriteLine($"{group.Key,-12} {throughput,5:F2} {cpuPerGiB,17:F3} {throughput * 8 * 1.073741824,8:F2}");
}

load.StandardInput.WriteLine("QUIT");
await load.WaitForExitAsync();
return 0;

static async Task<(double Seconds, double CpuSeconds)> MeasureAsync(RelayKind relay, int sinkPort, long bytesPerStream, int streams)
{
    VirtualServer config = new(
        new IPEndPoint(IPAddress.Loopback, 0), TimeSpan.FromSeconds(60), SchedulingAlgorithm.RoundRobin, null,
        IPAddress.Broadcast, null, false, false, 1, 0, null, null, false, false, null, TimeSpan.FromSeconds(5), null,
        ValueList.From([new VipProxy.Config.Model.RealServer(
            new IPEndPoint(IPAddress.Loopback, sinkPort), 1, false, null, null, null, ValueList<HealthCheck>.Empty)]));
    await using var runtime = new VirtualServerRuntime(config, ForwarderOptions.Default with { Relay = relay });
    await runtime.StartAsync();
    GC.Collect();
    using var self = Process.GetCurrentProcess();
    self.Refresh();
    TimeSpan cpuBefore = self.TotalProcessorTime;
    var wall = Stopwatch.StartNew();
    LoadProcess.Command($"RUN {runtime.LocalEndpoint!.Port} {bytesPerStream} {streams}");
    string reply = await LoadProcess.ReplyAsync();
    wall.Stop();
    self.Refresh();
    if (!reply.StartsWith("DONE", StringComparison.Ordinal))
    {
        throw new InvalidOperationException("Load process failed: " + reply);
    }

    return (wall.Elapsed.TotalSeconds, (self.TotalProcessorTime - cpuBefore).TotalSeconds);
}

static Process StartLoadProcess()
{
    string host = Environment.ProcessPath!;
    var start = new ProcessStartInfo(host)
    {
        RedirectStandardInput = true,
        RedirectStandardOutput = true,
        UseShellExecute = false,
    };
    if (Path.GetFileNameWithoutExtension(host) == "dotnet")
    {
        start.ArgumentList.Add(Environment.GetCommandLineArgs()[0]);
    }

    start.ArgumentList.Add("load");
    Process process = Process.Start(start)!;
    LoadProcess.Attach(process);
    return process;
}

static double Option(string[] args, string name, double fallback)
{
    int index = Array.IndexOf(args, name);
    return index >= 0 && index + 1 < args.Length ? double.Parse(args[index + 1], CultureInfo.InvariantCulture) : fallback;
}

static double Median(IEnumerable<double> values)
{
    double[] sorted = [.. values.Order()];
    return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
}

/// <summary>The child process: a sink real server plus a client that pushes bytes through the proxy on command.</summary>
internal static class LoadProcess
{
    private static Process? s_process;

    public static void Attach(Process process) => s_process = process;

    public static void Command(string line) => s_process!.StandardInput.WriteLine(line);

    public static async Task<string> ReplyAsync() => await s_process!.StandardOutput.ReadLineAsync() ?? "EOF";

    public static async Task RunAsync()
    {
        using var sink = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        sink.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        sink.Listen(64);
        _ = SinkLoopAsync(sink);
        Console.WriteLine($"SINK {((IPEndPoint)sink.LocalEndPoint!).Port}");
        while (Console.ReadLine() is { } line && line != "QUIT")
        {
            string[] parts = line.Split(' ');
            int port = int.Parse(parts[1], CultureInfo.InvariantCulture);
            long bytes = long.Parse(parts[2], CultureInfo.InvariantCulture);
            int streams = int.Parse(parts[3], CultureInfo.InvariantCulture);
            await Task.WhenAll(Enumerable.Range(0, streams).Select(_ => PushAsync(port, bytes)));
            Console.WriteLine("DONE");
        }
    }

    private static async Task PushAsync(int port, long bytes)
    {
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port));
        var buffer = new byte[256 * 1024];
        for (long left = bytes; left > 0;)
        {
            int size = (int)Math.Min(buffer.Length, left);
            left -= await client.SendAsync(buffer.AsMemory(0, size));
        }

        client.Shutdown(SocketShutdown.Send);
        // The sink closes after reading everything; the proxy passes that FIN on.
        await client.ReceiveAsync(buffer);
    }

    private static async Task SinkLoopAsync(Socket listener)
    {
        while (true)
        {
            Socket accepted = await listener.AcceptAsync();
            _ = DiscardAsync(accepted);
        }
    }

    private static async Task DiscardAsync(Socket socket)
    {
        using (socket)
        {
            var buffer = new byte[256 * 1024];
            while (await socket.ReceiveAsync(buffer) > 0)
            {
            }

            socket.Shutdown(SocketShutdown.Send);
        }
    }
}
