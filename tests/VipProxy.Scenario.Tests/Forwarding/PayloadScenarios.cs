using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Xunit.Abstractions;
using static VipProxy.Scenario.Tests.Forwarding.ForwardingConfig;

namespace VipProxy.Scenario.Tests.Forwarding;

/// <summary>
/// Bytes through the real daemon across namespaces: random payloads of several MB in both directions with
/// half-close arrive byte-exact (SHA-256 at both ends), and a peer that does not read while 100 MB are pushed at it
/// does not make the daemon's memory grow (backpressure all the way to the sender). Both ends are sockets of this
/// test process, made in the client and rs1 namespaces, so both ends can hash what they see.
/// </summary>
[Collection(NetworkScenariosCollection.Name)]
[Trait("Category", "Root")]
public sealed class PayloadScenarios(ITestOutputHelper output)
{
    private const int Duplex = 1, ClientFirst = 2, ServerFirst = 3, SlowClient = 4, SlowServer = 5;
    private const long MiB = 1024 * 1024;
    private const long Huge = 100 * MiB;
    private const long RssGrowthBoundKiB = 64 * 1024;
    private const long InFlightBound = 32 * MiB;
    private static readonly TimeSpan Stall = TimeSpan.FromSeconds(4);

    private static int VipPort(int scenario) => 8100 + scenario;

    private static int ServerPort(int scenario) => 9100 + scenario;

    [Fact]
    public async Task Payloads_arrive_byte_exact_with_half_close_and_an_unread_100_MB_keeps_the_daemon_memory_bounded()
    {
        using var files = new ScenarioFiles();
        await using var lan = await ForwardingLan.CreateAsync(output.WriteLine, realServers: 1);
        var rs1 = lan.RealServers[0];
        int[] scenarios = [Duplex, ClientFirst, ServerFirst, SlowClient, SlowServer];
        var daemon = await VipProxyDaemon.StartAsync(lan.Lb, files,
            string.Concat(scenarios.Select(s => VirtualServer(VipPort(s), "rr", "", RealServer(rs1, ServerPort(s))))));
        long startKiB = daemon.ResidentKiB();
        var client = lan.ThreadIn(lan.Client);
        var server = lan.ThreadIn(rs1);
        var listeners = new Dictionary<int, Socket>();
        foreach (int scenario in scenarios)
        {
            listeners[scenario] = await server.ListenAsync(new IPEndPoint(rs1.Address, ServerPort(scenario)));
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        var token = timeout.Token;
        try
        {
            // 1. Full duplex: 8 MiB up while 6 MiB come down; each side half-closes when done sending.
            {
                var (up, down) = await ConnectAsync(client, listeners[Duplex], Duplex, token);
                using (up)
                using (down)
                {
                    var clientSends = SendAsync(up, 8 * MiB, seed: 11, token);
                    var clientReceives = ReceiveAsync(up, token);
                    var serverSends = SendAsync(down, 6 * MiB, seed: 12, token);
                    var serverReceives = ReceiveAsync(down, token);
                    AssertSame("duplex up", await clientSends, await serverReceives);
                    AssertSame("duplex down", await serverSends, await clientReceives);
                }
            }

            // 2. The client sends 5 MiB and its FIN; the server sees EOF only after every byte, then answers 3 MiB.
            {
                var (up, down) = await ConnectAsync(client, listeners[ClientFirst], ClientFirst, token);
                using (up)
                using (down)
                {
                    var receiving = ReceiveAsync(down, token);
                    var sent = await SendAsync(up, 5 * MiB, seed: 21, token);
                    AssertSame("client-first up", sent, await receiving);
                    var answered = ReceiveAsync(up, token);
                    AssertSame("client-first answer after the client's FIN", await SendAsync(down, 3 * MiB, seed: 22, token), await answered);
                }
            }

            // 3. The reverse: the server sends 4 MiB and its FIN first; the client then uploads 7 MiB.
            {
                var (up, down) = await ConnectAsync(client, listeners[ServerFirst], ServerFirst, token);
                using (up)
                using (down)
                {
                    var receiving = ReceiveAsync(up, token);
                    var sent = await SendAsync(down, 4 * MiB, seed: 31, token);
                    AssertSame("server-first down", sent, await receiving);
                    var uploaded = ReceiveAsync(down, token);
                    AssertSame("server-first upload after the server's FIN", await SendAsync(up, 7 * MiB, seed: 32, token), await uploaded);
                }
            }

            // 4. Slow readers, both at once: 100 MiB pushed at a client that does not read, and 100 MiB pushed by
            // the client at a real server that does not read. The senders must stall; the daemon must not buffer.
            long baselineKiB = daemon.ResidentKiB();
            var (slowClient, itsServer) = await ConnectAsync(client, listeners[SlowClient], SlowClient, token);
            var (eagerClient, slowServer) = await ConnectAsync(client, listeners[SlowServer], SlowServer, token);
            using (slowClient)
            using (itsServer)
            using (eagerClient)
            using (slowServer)
            {
                var pushedDown = new Progress();
                var pushedUp = new Progress();
                var downSender = SendAsync(itsServer, Huge, seed: 41, token, pushedDown);
                var upSender = SendAsync(eagerClient, Huge, seed: 42, token, pushedUp);
                long peakKiB = baselineKiB;
                var stall = Stopwatch.StartNew();
                while (stall.Elapsed < Stall)
                {
                    peakKiB = Math.Max(peakKiB, daemon.ResidentKiB());
                    await Task.Delay(100, token);
                }

                long stalledDown = pushedDown.Bytes, stalledUp = pushedUp.Bytes;
                Assert.False(downSender.IsCompleted, "100 MiB went down to a client that reads nothing: no backpressure");
                Assert.False(upSender.IsCompleted, "100 MiB went up to a server that reads nothing: no backpressure");

                // Now both readers drain; the daemon is sampled while the full 200 MiB flows.
                var sampling = new CancellationTokenSource();
                var sampler = Task.Run(async () =>
                {
                    long peak = 0;
                    while (!sampling.IsCancellationRequested)
                    {
                        peak = Math.Max(peak, daemon.ResidentKiB());
                        await Task.Delay(50, CancellationToken.None);
                    }

                    return peak;
                }, CancellationToken.None);
                var downReceived = ReceiveAsync(slowClient, token);
                var upReceived = ReceiveAsync(slowServer, token);
                AssertSame("100 MiB down to the slow client", await downSender, await downReceived);
                AssertSame("100 MiB up to the slow server", await upSender, await upReceived);
                await sampling.CancelAsync();
                long drainPeakKiB = await sampler;
                sampling.Dispose();

                output.WriteLine(
                    $"daemon VmRSS: {startKiB / 1024.0:F1} MiB at start, baseline after 33 MiB relayed {baselineKiB / 1024.0:F1} MiB, peak while 2 x 100 MiB stalled {peakKiB / 1024.0:F1} MiB " +
                    $"(+{(peakKiB - baselineKiB) / 1024.0:F1} MiB), peak while draining {drainPeakKiB / 1024.0:F1} MiB " +
                    $"(+{(drainPeakKiB - baselineKiB) / 1024.0:F1} MiB); senders stalled after {stalledDown / (double)MiB:F1} MiB down " +
                    $"and {stalledUp / (double)MiB:F1} MiB up (socket buffers on the way)");
                Assert.True(peakKiB - baselineKiB < RssGrowthBoundKiB, $"daemon grew {(peakKiB - baselineKiB) / 1024} MiB while readers stalled");
                Assert.True(drainPeakKiB - baselineKiB < RssGrowthBoundKiB, $"daemon grew {(drainPeakKiB - baselineKiB) / 1024} MiB while draining");
                // What a sender gets out with nobody reading is the sum of the socket buffers on the path (and the
                // daemon's kernel pipe): a few MiB, bounded by tcp_wmem/tcp_rmem maxima, not by the payload.
                Assert.True(stalledDown < InFlightBound && stalledUp < InFlightBound, $"senders got {stalledDown} and {stalledUp} bytes out with no reader");
            }
        }
        finally
        {
            foreach (var listener in listeners.Values)
            {
                listener.Dispose();
            }
        }

        // The daemon counted the same bytes (bytes_in: client -> real server, bytes_out: back).
        var status = await EventuallyIdleAsync(daemon, scenarios.Select(VipPort));
        Assert.Equal((8 * MiB, 6 * MiB), Traffic(status, Duplex));
        Assert.Equal((5 * MiB, 3 * MiB), Traffic(status, ClientFirst));
        Assert.Equal((7 * MiB, 4 * MiB), Traffic(status, ServerFirst));
        Assert.Equal((0, Huge), Traffic(status, SlowClient));
        Assert.Equal((Huge, 0), Traffic(status, SlowServer));
        Assert.Contains(daemon.ConnectionLines(), l => l.Contains($"{8 * MiB} bytes up, {6 * MiB} bytes down", StringComparison.Ordinal));
    }

    private static (long In, long Out) Traffic(DaemonStatus status, int scenario)
    {
        var realServer = status.VirtualServer(VipPort(scenario)).RealServers.Single();
        return (realServer.BytesIn, realServer.BytesOut);
    }

    private static Task<DaemonStatus> EventuallyIdleAsync(VipProxyDaemon daemon, IEnumerable<int> ports) =>
        Eventually.ValueAsync(() => daemon.StatusFromCliAsync(), status => ports.All(p => status.VirtualServer(p).ActiveConnections == 0),
            TimeSpan.FromSeconds(10), "the daemon's connections to close after both ends closed", TimeSpan.FromMilliseconds(200));

    /// <summary>Connects client → VIP and accepts the proxied connection on the real server's listener.</summary>
    private static async Task<(Socket Client, Socket Server)> ConnectAsync(NamespaceThread client, Socket listener, int scenario, CancellationToken token)
    {
        var accepting = listener.AcceptAsync(token).AsTask();
        var socket = await client.CreateTcpSocketAsync();
        await socket.ConnectAsync(ForwardingLan.VipEndpoint(VipPort(scenario)), token);
        return (socket, await accepting.WaitAsync(TimeSpan.FromSeconds(10), token));
    }

    private sealed class Progress
    {
        private long _bytes;

        public long Bytes => Interlocked.Read(ref _bytes);

        public void Add(long bytes) => Interlocked.Add(ref _bytes, bytes);
    }

    private sealed record Transfer(long Bytes, string Sha256);

    /// <summary>Sends <paramref name="total"/> seeded random bytes, then half-closes (FIN); hashes what it sent.</summary>
    private static Task<Transfer> SendAsync(Socket socket, long total, int seed, CancellationToken token, Progress? progress = null) => Task.Run(async () =>
    {
#pragma warning disable CA5394 // Test data, reproducible by seed: not security.
        var random = new Random(seed);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[64 * 1024];
        long sent = 0;
        while (sent < total)
        {
            int size = (int)Math.Min(buffer.Length, total - sent);
            var chunk = buffer.AsMemory(0, size);
            random.NextBytes(chunk.Span);
#pragma warning restore CA5394
            hash.AppendData(chunk.Span);
            while (chunk.Length > 0)
            {
                int written = await socket.SendAsync(chunk, SocketFlags.None, token);
                chunk = chunk[written..];
                progress?.Add(written);
            }

            sent += size;
        }

        socket.Shutdown(SocketShutdown.Send);
        return new Transfer(sent, Convert.ToHexString(hash.GetHashAndReset()));
    }, token);

    /// <summary>Reads to EOF, hashing everything.</summary>
    private static Task<Transfer> ReceiveAsync(Socket socket, CancellationToken token) => Task.Run(async () =>
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[256 * 1024];
        long received = 0;
        int read;
        while ((read = await socket.ReceiveAsync(buffer, SocketFlags.None, token)) > 0)
        {
            hash.AppendData(buffer, 0, read);
            received += read;
        }

        return new Transfer(received, Convert.ToHexString(hash.GetHashAndReset()));
    }, token);

    private void AssertSame(string what, Transfer sent, Transfer received)
    {
        output.WriteLine($"{what}: {sent.Bytes} bytes, sha256 {sent.Sha256[..16]}… sent, {received.Bytes} bytes, sha256 {received.Sha256[..16]}… received");
        Assert.Equal(sent, received);
    }
}
