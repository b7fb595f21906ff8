using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using VipProxy.Scenario.Tests.Daemon;
using VipProxy.Scenario.Tests.Forwarding;
using Xunit.Abstractions;
using static VipProxy.Scenario.Tests.Daemon.HotStandbyLan;

namespace VipProxy.Scenario.Tests.Faults;

/// <summary>
/// Issue 7: a real server that accepts TCP but never answers is taken down by MYSQL_CHECK's timeout, not waited on
/// forever, and the forwarder stops sending new clients to it. Two black holes join the MySQL service by a SIGHUP
/// reload while clients query through the VIP: rs1:8067 accepts and never sends a greeting, rs2:8067 greets and
/// never answers the login (a mysqld stuck on a lock or a full thread pool).
/// </summary>
[Collection(NetworkScenariosCollection.Name)]
[Trait("Category", "Root")]
public sealed class BlackholeScenario(ITestOutputHelper output)
{
    private const int BlackholePort = 8067;

    [Fact]
    public async Task MySQL_black_holes_are_reported_down_by_the_check_timeout_and_get_no_new_clients()
    {
        using var files = new ScenarioFiles();
        await using var lan = await StartAsync(output.WriteLine, files);
        await using var silent = await Blackhole.StartAsync(lan.ThreadIn(lan.Rs1), new IPEndPoint(lan.Rs1Back, BlackholePort), greets: false);
        await using var greeting = await Blackhole.StartAsync(lan.ThreadIn(lan.Rs2), new IPEndPoint(lan.Rs2Back, BlackholePort), greets: true);
        var silentEndpoint = $"{lan.Rs1Back}";
        var greetingEndpoint = $"{lan.Rs2Back}";

        const int Workers = 2;
        var clock = Stopwatch.StartNew();
        var load = lan.StartQueryLoad(Workers, clock, TimeSpan.FromSeconds(40));
        TimeSpan reloadedAt, downAfter;
        try
        {
            // The operator adds two servers that turn out to be hung (keepalived without alpha: up until checked).
            foreach (var (lb, priority) in new[] { (lan.Lb1, Lb1Priority), (lan.Lb2, Lb2Priority) })
            {
                lan.RewriteConfig(lb, WithBlackholes(lan.Config(lb, priority), lan));
            }

            reloadedAt = clock.Elapsed;
            lan.Node1.Process.Signal(VipProxy.Lab.UnixSignal.Hup);
            lan.Node2.Process.Signal(VipProxy.Lab.UnixSignal.Hup);
            await EventuallyAsync(lan.Node1, s => s.Service(DataPort).RealServers.Count == 4, "lb1: four MySQL real servers", TimeSpan.FromSeconds(10));
            var applied = clock.Elapsed;
            await EventuallyAsync(lan.Node1, s => Blackholes(s).All(r => !r.Up), "lb1: both black holes down", TimeSpan.FromSeconds(20));
            downAfter = clock.Elapsed - applied;
            await EventuallyAsync(lan.Node2, s => s.Service(DataPort).RealServers.Count == 4 && Blackholes(s).All(r => !r.Up), "lb2: both black holes down", TimeSpan.FromSeconds(20));
            await Task.Delay(TimeSpan.FromSeconds(4)); // new sessions after the verdict
        }
        finally
        {
            await load.StopAsync();
        }

        var status = await StatusFromCliAsync(lan.Node1);
        var holes = Blackholes(status);
        var downAt = reloadedAt + downAfter;
        var all = load.Sorted();
        var after = all.Where(o => o.Started > downAt + TimeSpan.FromSeconds(0.2)).ToList();
        var before = all.Where(o => o.Started >= reloadedAt && o.Started <= downAt).ToList();
        output.WriteLine($"black holes down {downAfter.TotalMilliseconds:F0} ms after the reload was applied (bound {CheckDetectionBound.TotalMilliseconds:F0} ms + 1 s); " +
            string.Join("; ", holes.Select(h => $"{h.Address}:{h.Port} '{h.LastCheck}', {h.TotalConnections} client connections")) +
            $"; sessions while being checked {before.Count} ({before.Count(o => !o.Succeeded)} failed), after {after.Count} ({after.Count(o => !o.Succeeded)} failed); " +
            $"accepted by the black holes: silent {silent.Accepted}, greeting {greeting.Accepted}");
        foreach (var failure in before.Where(o => !o.Succeeded))
        {
            output.WriteLine("  failed while being checked: " + failure);
        }

        Assert.True(downAfter <= CheckDetectionBound + TimeSpan.FromSeconds(1), $"black holes reported down {downAfter} after the reload");
        Assert.Contains("timed out after 1 s while reading the greeting", holes.Single(h => h.Address == silentEndpoint).LastCheck, StringComparison.Ordinal);
        Assert.Contains("timed out after 1 s while logging in as 'monitor'", holes.Single(h => h.Address == greetingEndpoint).LastCheck, StringComparison.Ordinal);
        Assert.True(after.Count >= 10, $"only {after.Count} sessions after the black holes went down");
        Assert.True(after.All(o => o.Succeeded), "sessions failed after the black holes were down:\n" + string.Join('\n', after.Where(o => !o.Succeeded)));
        Assert.Contains(after, o => o.ServerId == 1);
        Assert.Contains(after, o => o.ServerId == 2);

        // No new client reached a black hole once it was down: their counters did not move since.
        var later = await StatusFromCliAsync(lan.Node1);
        Assert.Equal(holes.Sum(h => h.TotalConnections), Blackholes(later).Sum(h => h.TotalConnections));
        Assert.All(Blackholes(later), h => Assert.Equal(0, h.ActiveConnections));
        Assert.Equal("MASTER", later.Vrrp.State);
        Assert.True(later.Service(DataPort).QuorumUp);
    }

    private static IReadOnlyList<RealServerView> Blackholes(NodeStatus status) =>
        status.Service(DataPort).RealServers.Where(r => r.Port == BlackholePort).ToList();

    /// <summary>The node's file with the two black holes added to the MySQL virtual_server (same MYSQL_CHECK settings).</summary>
    private static string WithBlackholes(string config, HotStandbyLan lan)
    {
        string Block(IPAddress address) => $$"""
                real_server {{address}} {{BlackholePort}} {
                    weight 1
                    MYSQL_CHECK {
                        user monitor
                        password m0n-secret
                        connect_timeout 1
                        retry 1
                        delay_before_retry 0.5
                        warmup 0
                    }
                }

            """;
        int echoService = config.IndexOf($"virtual_server {Vrrp.Vip} {EchoPort} {{", StringComparison.Ordinal);
        int dataServiceEnd = config.LastIndexOf('}', echoService);
        Assert.True(echoService > 0 && dataServiceEnd > 0, "unexpected HotStandbyLan config layout");
        return config[..dataServiceEnd] + Block(lan.Rs1Back) + Block(lan.Rs2Back) + config[dataServiceEnd..];
    }

    /// <summary>Accepts and holds every connection; with <c>greets</c>, first sends a MySQL protocol-10 greeting.</summary>
    private sealed class Blackhole : IAsyncDisposable
    {
        private readonly Socket _listener;
        private readonly List<Socket> _held = [];
        private readonly Task _loop;
        private readonly bool _greets;
        private int _accepted;

        private Blackhole(Socket listener, bool greets)
        {
            _listener = listener;
            _greets = greets;
            _loop = Task.Run(AcceptAsync);
        }

        public int Accepted => Volatile.Read(ref _accepted);

        public static async Task<Blackhole> StartAsync(NamespaceThread thread, IPEndPoint endpoint, bool greets) =>
            new(await thread.ListenAsync(endpoint), greets);

        public async ValueTask DisposeAsync()
        {
            _listener.Dispose();
            await Task.WhenAny(_loop, Task.Delay(TimeSpan.FromSeconds(5)));
            lock (_held)
            {
                foreach (var socket in _held)
                {
                    socket.Dispose();
                }
            }
        }

        private async Task AcceptAsync()
        {
            try
            {
                while (true)
                {
                    var socket = await _listener.AcceptAsync();
                    lock (_held)
                    {
                        _held.Add(socket);
                    }

                    Interlocked.Increment(ref _accepted);
                    if (_greets)
                    {
                        await socket.SendAsync(Greeting(), SocketFlags.None);
                    }
                }
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                // Stopped.
            }
        }

        /// <summary>A MariaDB-like protocol-10 greeting, packet sequence 0, mysql_native_password.</summary>
        private static byte[] Greeting()
        {
            var payload = new List<byte> { 10 };
            payload.AddRange(Encoding.ASCII.GetBytes("10.11.6-MariaDB-hung"));
            payload.Add(0);
            payload.AddRange(BitConverter.GetBytes(7u));                 // connection id
            payload.AddRange("abcdefgh"u8.ToArray());                     // scramble, part 1
            payload.Add(0);
            const uint Capabilities = 0x000F_A2FF & ~0x800u;               // protocol 41, secure connection, plugin auth; no SSL
            payload.AddRange(BitConverter.GetBytes((ushort)(Capabilities & 0xFFFF)));
            payload.Add(45);                                              // utf8mb4
            payload.AddRange(BitConverter.GetBytes((ushort)2));           // status: autocommit
            payload.AddRange(BitConverter.GetBytes((ushort)(Capabilities >> 16)));
            payload.Add(21);                                              // auth data length
            payload.AddRange(new byte[10]);
            payload.AddRange("ijklmnopqrst"u8.ToArray());                 // scramble, part 2
            payload.Add(0);
            payload.AddRange(Encoding.ASCII.GetBytes("mysql_native_password"));
            payload.Add(0);
            var packet = new byte[4 + payload.Count];
            packet[0] = (byte)payload.Count;
            packet[1] = (byte)(payload.Count >> 8);
            payload.CopyTo(packet, 4);
            return packet;
        }
    }
}
