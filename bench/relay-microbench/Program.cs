// Relay microbenchmark: the proxy (a VirtualServerRuntime on its own event loops, in the variant under test) runs in
// this process; the load (a client pushing bytes and a sink real server discarding them) runs in a child process, so
// this process's CPU time (Process.TotalProcessorTime) is the proxy's alone.
//
//   dotnet run -c Release --project bench/relay-microbench -- [--gib N] [--rounds N] [--streams N] [--relays a,b]
//   dotnet run -c Release --project bench/relay-microbench -- --idle 2000 [--rounds N]   (memory per idle connection)
//   dotnet run -c Release --project bench/relay-microbench -- --pingpong 20000 [--conns 50] [--size 200] [--rounds N]
//       (small request/response: proxy CPU µs per round trip)
// Variants (--relays): loop1 (one event loop), loop2 (two), splice-eager (two loops, 512-byte copy buffer: bulk
// goes through kernel pipes at once).
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using VipProxy.Config.Model;
using VipProxy.Forwarding.Runtime;

if (args.Length > 0 && args[0] == "load")
{
    await LoadProcess.RunAsync();
    return 0;
}

double gib = Option(args, "--gib", 1.0);
int rounds = (int)Option(args, "--rounds", 3);
int streams = (int)Option(args, "--streams", 1);
int idle = (int)Option(args, "--idle", 0);
long bytesPerStream = (long)(gib * (1L << 30)) / streams;
Bench.PipeSize = (int)Option(args, "--pipe-size", 0);
string[] relays = Array.IndexOf(args, "--relays") is int at and >= 0 && at + 1 < args.Length
    ? args[at + 1].Split(',')
    : ["loop1", "loop2", "splice-eager"];

using Process load = StartLoadProcess();
string[] sinkLine = load.StandardOutput.ReadLine()!.Split(' ');
int sinkPort = int.Parse(sinkLine[1], CultureInfo.InvariantCulture);
int echoPort = int.Parse(sinkLine[2], CultureInfo.InvariantCulture);
string build = System.Runtime.CompilerServices.RuntimeFeature.IsDynamicCodeSupported ? "JIT" : "Native AOT";
int pingPong = (int)Option(args, "--pingpong", 0);
if (pingPong > 0)
{
    await PingPong.RunAsync(args, echoPort, pingPong, (int)Option(args, "--conns", 50), (int)Option(args, "--size", 200), rounds, build);
    load.StandardInput.WriteLine("QUIT");
    await load.WaitForExitAsync();
    return 0;
}

if (idle > 0)
{
    await IdleMemory.RunAsync(relays, sinkPort, idle, rounds, build);
    load.StandardInput.WriteLine("QUIT");
    await load.WaitForExitAsync();
    return 0;
}

var results = new List<(string Relay, double Seconds, double CpuSeconds, long Bytes, long FallbackBytes)>();
Console.WriteLine($"relay microbench ({build}): {gib} GiB per run over {streams} stream(s), {rounds} interleaved rounds, {Environment.ProcessorCount} CPUs");
Console.WriteLine("relay        round   wall s   GiB/s   proxy CPU s/GiB");

// One warm-up run per relay (JIT, pools), then interleaved rounds so drift affects all alike.
foreach (string relay in relays)
{
    await MeasureAsync(relay, sinkPort, 128L << 20, 1);
}

for (int round = 1; round <= rounds; round++)
{
    foreach (string relay in relays)
    {
        var (seconds, cpu, fallback) = await MeasureAsync(relay, sinkPort, bytesPerStream, streams);
        long bytes = bytesPerStream * streams;
        results.Add((relay, seconds, cpu, bytes, fallback));
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

static async Task<(double Seconds, double CpuSeconds, long FallbackBytes)> MeasureAsync(string relay, int sinkPort, long bytesPerStream, int streams)
{
    await using var runtime = new VirtualServerRuntime(Bench.Config(sinkPort), Bench.Options(relay));
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

    return (wall.Elapsed.TotalSeconds, (self.TotalProcessorTime - cpuBefore).TotalSeconds, 0);
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

/// <summary>Shared setup.</summary>
internal static class Bench
{
    /// <summary>Unused (kept so old command lines still parse): the loops' pipe size is fixed.</summary>
    public static int PipeSize { get; set; }

    /// <summary>The forwarder settings of a variant (the connection log off: this measures the relay).</summary>
    public static ForwarderOptions Options(string variant) => variant switch
    {
        "loop1" => ForwarderOptions.Default with { Threads = 1, LogConnections = false },
        "loop2" => ForwarderOptions.Default with { Threads = 2, LogConnections = false },
        "splice-eager" => ForwarderOptions.Default with { Threads = 2, CopySize = 512, LogConnections = false },
        _ => throw new ArgumentException($"unknown variant {variant} (loop1, loop2, splice-eager; the io_uring variants of bench/results/io-uring-ab.md were removed with the backend)"),
    };

    /// <summary>One virtual server on loopback port 0 with the load process's sink as its only real server.</summary>
    public static VirtualServer Config(int sinkPort) => new(
        new IPEndPoint(IPAddress.Loopback, 0), TimeSpan.FromSeconds(60), SchedulingAlgorithm.RoundRobin, null,
        IPAddress.Broadcast, null, false, false, 1, 0, null, null, false, false, null, TimeSpan.FromSeconds(5), null, false, null, null,
        ValueList.From([new RealServer(
            new IPEndPoint(IPAddress.Loopback, sinkPort), 1, false, null, null, null, ValueList<HealthCheck>.Empty)]));
}

/// <summary>
/// Memory per idle proxied connection: the load process opens N connections through the proxy to its sink and
/// leaves them idle; this process reports its VmRSS and managed-heap growth divided by N (after a warm-up round of
/// the same size, so pools, JIT and heap segments are already in place).
/// </summary>
internal static class IdleMemory
{
    public static async Task RunAsync(string[] relays, int sinkPort, int count, int rounds, string build)
    {
        Console.WriteLine($"idle connection memory ({build}): {count} idle proxied connections, {rounds} rounds per relay");
        Console.WriteLine("relay        round   RSS kB/conn   managed kB/conn");
        Console.WriteLine("(run one relay per process, --relays X, for a clean cold figure: later relays reuse the heap)");
        var results = new List<(string Relay, double Rss, double Managed)>();
        foreach (string relay in relays)
        {
            await using var runtime = new VirtualServerRuntime(Bench.Config(sinkPort), Bench.Options(relay));
            await runtime.StartAsync();
            await OpenIdleAsync(runtime, 50); // warm-up: code paths, thread pool, socket engine
            await CloseIdleAsync(runtime);

            // Round 0 is cold: the heap and pools grow for the first time (what a daemon pays). Later rounds reopen
            // into memory the process already holds, so they show the marginal cost.
            for (int round = 0; round <= rounds; round++)
            {
                (long rssBefore, long managedBefore) = Measure();
                await OpenIdleAsync(runtime, count);
                (long rssAfter, long managedAfter) = Measure();
                double rss = (rssAfter - rssBefore) / 1024.0 / count;
                double managed = (managedAfter - managedBefore) / 1024.0 / count;
                results.Add((relay, round == 0 ? rss : double.NaN, managed));
                Console.WriteLine($"{relay,-12} {(round == 0 ? "cold" : round.ToString(CultureInfo.InvariantCulture)),5} {rss,13:F2} {managed,17:F2}");
                await CloseIdleAsync(runtime);
            }
        }

        Console.WriteLine();
        Console.WriteLine("relay        cold RSS kB/conn   median managed kB/conn");
        foreach (var group in results.GroupBy(r => r.Relay))
        {
            Console.WriteLine($"{group.Key,-12} {group.First().Rss,16:F2} {Median(group.Select(r => r.Managed)),24:F2}");
        }
    }

    private static async Task OpenIdleAsync(VirtualServerRuntime runtime, int count)
    {
        LoadProcess.Command($"IDLE {runtime.LocalEndpoint!.Port} {count}");
        string reply = await LoadProcess.ReplyAsync();
        if (reply != "OPEN")
        {
            throw new InvalidOperationException("Load process failed: " + reply);
        }

        // Every connection relaying (both sockets connected, both zero-byte receives parked), then settle.
        await WaitAsync(() => runtime.GetConnectionsAsync().GetAwaiter().GetResult().Count(c => c.RealServer is not null) == count);
        await Task.Delay(500);
    }

    private static async Task CloseIdleAsync(VirtualServerRuntime runtime)
    {
        LoadProcess.Command("CLOSEIDLE");
        _ = await LoadProcess.ReplyAsync();
        try
        {
            await WaitAsync(() => runtime.GetStatus().OpenConnections == 0);
        }
        catch (TimeoutException)
        {
            var open = await runtime.GetConnectionsAsync();
            Console.WriteLine($"still open: {open.Count}, half-closed {open.Count(c => c.HalfClosed)}, " +
                $"no real server {open.Count(c => c.RealServer is null)}, status open {runtime.GetStatus().OpenConnections}");
            throw;
        }
    }

    private static (long Rss, long Managed) Measure()
    {
        for (int i = 0; i < 3; i++)
        {
            GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
            GC.WaitForPendingFinalizers();
        }

        long managed = GC.GetTotalMemory(forceFullCollection: true);
        long rss = 0;
        foreach (string line in File.ReadLines("/proc/self/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                rss = long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
            }
        }

        return (rss, managed);
    }

    private static async Task WaitAsync(Func<bool> condition)
    {
        var deadline = Stopwatch.StartNew();
        while (!condition())
        {
            if (deadline.Elapsed > TimeSpan.FromSeconds(60))
            {
                throw new TimeoutException("Idle connections did not settle.");
            }

            await Task.Delay(50);
        }
    }

    private static double Median(IEnumerable<double> values)
    {
        double[] sorted = [.. values.Order()];
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }
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
        sink.Listen(4096); // idle-memory runs open thousands of connections at once
        _ = SinkLoopAsync(sink);
        using var echo = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        echo.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        echo.Listen(4096);
        _ = EchoLoopAsync(echo);
        Console.WriteLine($"SINK {((IPEndPoint)sink.LocalEndPoint!).Port} {((IPEndPoint)echo.LocalEndPoint!).Port}");
        var idle = new List<Socket>();
        while (Console.ReadLine() is { } line && line != "QUIT")
        {
            string[] parts = line.Split(' ');
            if (parts[0] == "IDLE")
            {
                int target = int.Parse(parts[1], CultureInfo.InvariantCulture);
                int count = int.Parse(parts[2], CultureInfo.InvariantCulture);
                for (int i = 0; i < count; i++)
                {
                    var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                    await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, target));
                    idle.Add(socket);
                }

                Console.WriteLine("OPEN");
                continue;
            }

            if (parts[0] == "CLOSEIDLE")
            {
                foreach (Socket socket in idle)
                {
                    socket.Dispose();
                }

                idle.Clear();
                Console.WriteLine("CLOSED");
                continue;
            }

            if (parts[0] == "PINGPONG")
            {
                int proxyPort = int.Parse(parts[1], CultureInfo.InvariantCulture);
                int conns = int.Parse(parts[2], CultureInfo.InvariantCulture);
                int trips = int.Parse(parts[3], CultureInfo.InvariantCulture);
                int size = int.Parse(parts[4], CultureInfo.InvariantCulture);
                await Task.WhenAll(Enumerable.Range(0, conns).Select(_ => PingAsync(proxyPort, trips, size)));
                Console.WriteLine("DONE");
                continue;
            }

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

    private static async Task PingAsync(int port, int trips, int size)
    {
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await client.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port));
        var request = new byte[size];
        var reply = new byte[size];
        for (int trip = 0; trip < trips; trip++)
        {
            await client.SendAsync(request);
            for (int got = 0; got < size;)
            {
                int read = await client.ReceiveAsync(reply.AsMemory(got));
                if (read == 0)
                {
                    throw new InvalidOperationException("The proxy closed a ping-pong connection.");
                }

                got += read;
            }
        }

        client.Shutdown(SocketShutdown.Send);
        await client.ReceiveAsync(reply);
    }

    private static async Task EchoLoopAsync(Socket listener)
    {
        while (true)
        {
            Socket accepted = await listener.AcceptAsync();
            accepted.NoDelay = true;
            _ = EchoAsync(accepted);
        }
    }

    private static async Task EchoAsync(Socket socket)
    {
        using (socket)
        {
            var buffer = new byte[64 * 1024];
            int read;
            while ((read = await socket.ReceiveAsync(buffer)) > 0)
            {
                await socket.SendAsync(buffer.AsMemory(0, read));
            }

            socket.Shutdown(SocketShutdown.Send);
        }
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

/// <summary>
/// Small request/response through the proxy: C connections each do N round trips of S bytes against an echo real
/// server in the load process; the figure is this (proxy) process's CPU time per round trip. Variants: socketcopy,
/// pipe, splice (the default hybrid: small reads copied, bulk spliced), splice-pure (copyThreshold 0: every byte
/// spliced), interleaved per round.
/// </summary>
internal static class PingPong
{
    public static async Task RunAsync(string[] args, int echoPort, int trips, int conns, int size, int rounds, string build)
    {
        string[] variants = Array.IndexOf(args, "--relays") is int at and >= 0 && at + 1 < args.Length
            ? args[at + 1].Split(',')
            : ["loop1", "loop2", "splice-eager"];
        Console.WriteLine($"ping-pong ({build}): {conns} connections x {trips} round trips of {size} B, {rounds} interleaved rounds, {Environment.ProcessorCount} CPUs");
        Console.WriteLine("relay         round   wall s   round trips/s   proxy CPU us/round trip");
        var results = new List<(string Variant, double Rate, double CpuMicros)>();
        for (int round = 0; round <= rounds; round++)
        {
            foreach (string variant in variants)
            {
                await using var runtime = new VirtualServerRuntime(Bench.Config(echoPort), Bench.Options(variant));
                await runtime.StartAsync();
                int roundTrips = round == 0 ? Math.Max(1, trips / 10) : trips; // round 0: warm-up
                GC.Collect();
                using var self = Process.GetCurrentProcess();
                self.Refresh();
                TimeSpan cpuBefore = self.TotalProcessorTime;
                var wall = Stopwatch.StartNew();
                LoadProcess.Command($"PINGPONG {runtime.LocalEndpoint!.Port} {conns} {roundTrips} {size}");
                string reply = await LoadProcess.ReplyAsync();
                wall.Stop();
                self.Refresh();
                if (!reply.StartsWith("DONE", StringComparison.Ordinal))
                {
                    throw new InvalidOperationException("Load process failed: " + reply);
                }

                if (round == 0)
                {
                    continue;
                }

                double total = (double)conns * roundTrips;
                double cpuMicros = (self.TotalProcessorTime - cpuBefore).TotalMicroseconds / total;
                results.Add((variant, total / wall.Elapsed.TotalSeconds, cpuMicros));
                Console.WriteLine($"{variant,-12} {round,6} {wall.Elapsed.TotalSeconds,8:F2} {total / wall.Elapsed.TotalSeconds,15:F0} {cpuMicros,25:F2}");
            }
        }

        Console.WriteLine();
        Console.WriteLine("median        round trips/s   proxy CPU us/round trip");
        foreach (var group in results.GroupBy(r => r.Variant))
        {
            double[] rates = [.. group.Select(r => r.Rate).Order()];
            double[] cpu = [.. group.Select(r => r.CpuMicros).Order()];
            Console.WriteLine($"{group.Key,-12} {rates[rates.Length / 2],15:F0} {cpu[cpu.Length / 2],25:F2}");
        }
    }
}
