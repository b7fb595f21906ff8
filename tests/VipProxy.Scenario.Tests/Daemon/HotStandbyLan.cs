using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using MySqlConnector;
using VipProxy.Host.Control;
using VipProxy.Lab;
using VipProxy.Scenario.Tests.Forwarding;

namespace VipProxy.Scenario.Tests.Daemon;

/// <summary>
/// The MyCat hot-standby deployment with real processes: a client host and two LB hosts on the "front" switch
/// (198.18.0.0/24, VIP 198.18.0.100), the two LB hosts and two MariaDB real servers on the "back" switch
/// (198.18.1.0/24). Each LB runs <c>vipproxy run</c> with VRRP v2, advert_int 1 (lb1 priority 100, lb2 priority 90),
/// VIP:8066 → rs1/rs2:8066 checked by MYSQL_CHECK, and VIP:9100 → rs1/rs2:9100 (no checker) for the test's own
/// echo streams. Disposing kills every process, closes every socket and removes every namespace.
/// </summary>
internal sealed class HotStandbyLan : IAsyncDisposable
{
    public const int DataPort = 8066, EchoPort = 9100, MetricsPort = 9300;
    public const int Lb1Priority = 100, Lb2Priority = 90;
    public const string AppUser = "app", AppPassword = "app-secret";
    private const string MonitorUser = "monitor", MonitorPassword = "m0n-secret";

    /// <summary>RFC 3768: Skew_Time = (256 − priority) / 256 s; Master_Down_Interval = 3 × advert_int + Skew_Time (lb2's).</summary>
    public static readonly TimeSpan SkewTime = TimeSpan.FromSeconds((256 - Lb2Priority) / 256.0);

    public static readonly TimeSpan MasterDownInterval = TimeSpan.FromSeconds(3) + SkewTime;

    /// <summary>The MYSQL_CHECK below: delay_loop × (retry + 1) + connect_timeout.</summary>
    public static readonly TimeSpan CheckDetectionBound = TimeSpan.FromSeconds((1 * (1 + 1)) + 1);

    private static readonly TimeSpan Startup = TimeSpan.FromSeconds(20);

    private readonly List<NamespaceThread> _threads = [];
    private readonly List<Socket> _sockets = [];
    private readonly CancellationTokenSource _closing = new();
    private readonly List<Task> _echoLoops = [];
    private readonly Action<string> _log;

    private HotStandbyLan(Lan lan, ScenarioFiles files, Action<string> log, HotStandbySetup setup)
    {
        Lan = lan;
        Files = files;
        _log = log;
        Setup = setup;
        Front = lan.Switch("front");
        Back = lan.Switch("back");
        Client = lan.Host("client");
        Lb1 = lan.Host("lb1");
        Lb2 = lan.Host("lb2");
        Rs1 = lan.Host("rs1");
        Rs2 = lan.Host("rs2");
    }

    public Lan Lan { get; }

    /// <summary>What this scenario changes in the deployment.</summary>
    public HotStandbySetup Setup { get; }

    public ScenarioFiles Files { get; }

    public LanSwitch Front { get; }

    public LanSwitch Back { get; }

    public LanHost Client { get; }

    public LanHost Lb1 { get; }

    public LanHost Lb2 { get; }

    public LanHost Rs1 { get; }

    public LanHost Rs2 { get; }

    public MariaDbServer Db1 { get; private set; } = null!;

    public MariaDbServer Db2 { get; private set; } = null!;

    public VipProxyDaemon Node1 { get; set; } = null!;

    public VipProxyDaemon Node2 { get; private set; } = null!;

    public IPAddress Rs1Back => Rs1.InterfaceOn(Back).Address;

    public IPAddress Rs2Back => Rs2.InterfaceOn(Back).Address;

    /// <summary>Builds the LAN, starts both MariaDB servers and both nodes, and waits for lb1 MASTER, lb2 BACKUP,
    /// and every real server up on both nodes.</summary>
    /// <param name="lb1Arguments">Extra <c>vipproxy run</c> arguments for lb1 (e.g. <c>--handover after-drain</c>).</param>
    public static Task<HotStandbyLan> StartAsync(Action<string> log, ScenarioFiles files, string[]? lb1Arguments = null) =>
        StartAsync(log, files, new HotStandbySetup { Lb1Arguments = lb1Arguments ?? [] });

    /// <summary>Builds the LAN as <see cref="StartAsync(Action{string}, ScenarioFiles, string[])"/> does, changed by <paramref name="setup"/>.</summary>
    public static async Task<HotStandbyLan> StartAsync(Action<string> log, ScenarioFiles files, HotStandbySetup setup)
    {
        var lan = await Lan.CreateAsync(log);
        HotStandbyLan? built = null;
        try
        {
            var front = await lan.AddSwitchAsync("front", 0);
            var back = await lan.AddSwitchAsync("back", 1);
            var client = await lan.AddHostAsync("client");
            await client.ConnectAsync(front, 10);

            // Front first: Interfaces[0] is the VRRP interface, which Vrrp.HoldsVipAsync looks at.
            foreach (var (name, number) in new[] { ("lb1", 2), ("lb2", 3) })
            {
                var lb = await lan.AddHostAsync(name);
                await lb.ConnectAsync(front, number);
                await lb.ConnectAsync(back, number);
            }

            foreach (var (name, number) in new[] { ("rs1", 11), ("rs2", 12) })
            {
                var rs = await lan.AddHostAsync(name);
                await rs.ConnectAsync(back, number);
            }

            built = new HotStandbyLan(lan, files, log, setup);
            await built.StartServersAsync();
            return built;
        }
        catch
        {
            if (built is not null)
            {
                await built.DisposeAsync();
            }
            else
            {
                await lan.DisposeAsync();
            }

            throw;
        }
    }

    private async Task StartServersAsync()
    {
        // One after the other: two mariadb-install-db bootstraps at once share /tmp as tmpdir and can collide
        // ("Could not remove temporary table '/tmp/#sql-temptable-…'", ERROR 1051 on mysql.tmp_user_sys).
        Db1 = await StartMariaDbAsync(Rs1, 1);
        Db2 = await StartMariaDbAsync(Rs2, 2);
        if (Setup.PrepareDatabases is { } prepare)
        {
            await prepare(this);
        }

        var nodes = await Task.WhenAll(
            VipProxyDaemon.StartAsync(Lb1, Files, Config(Lb1, Lb1Priority), Setup.Lb1Arguments),
            VipProxyDaemon.StartAsync(Lb2, Files, Config(Lb2, Lb2Priority)));
        (Node1, Node2) = (nodes[0], nodes[1]);
        await Vrrp.WaitForVipAsync(Lb1, held: true, Startup);
        await EventuallyAsync(Node2, s => s.Vrrp.State == "BACKUP", "lb2 BACKUP", Startup);
        foreach (var node in nodes)
        {
            var ready = Setup.Ready ?? (s => s.Service(DataPort).RealServers.All(r => r.Up));
            await EventuallyAsync(node, ready, $"{node.Host.Name}: {Setup.ReadyDescription}", Startup);
        }
    }

    private async Task<MariaDbServer> StartMariaDbAsync(LanHost host, int serverId)
    {
        var server = await MariaDbServer.StartAsync(host, DataPort, [$"--server-id={serverId}", .. Setup.MariaDbArguments], _log);
        try
        {
            await server.CreateUserAsync(MonitorUser, MonitorPassword);
            await server.CreateUserAsync(AppUser, AppPassword);
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>The node's whole file; <paramref name="rs2EchoWeight"/> is what the reload scenario changes.</summary>
    public string Config(LanHost lb, int priority, int rs2EchoWeight = 1, string extraRealServerLine = "")
    {
        string check = $$"""
            MYSQL_CHECK {
                        user {{MonitorUser}}
                        password {{MonitorPassword}}
                        connect_timeout 1
                        retry 1
                        delay_before_retry 0.5
                        warmup 0
                        {{Setup.DataCheckOptions}}
                    }
            """;
        return $$"""
            global_defs {
                router_id {{lb.Name}}
                metrics_listen 127.0.0.1 {{MetricsPort}}
            }

            vrrp_instance VI_1 {
                state BACKUP
                interface {{lb.InterfaceOn(Front).Name}}
                virtual_router_id 51
                priority {{priority}}
                version 2
                advert_int 1
                authentication {
                    auth_type PASS
                    auth_pass secret1
                }
                virtual_ipaddress {
                    {{Vrrp.Vip}}/24
                }
                {{Setup.InstanceOptions}}
            }

            virtual_server {{Vrrp.Vip}} {{DataPort}} {
                delay_loop 1
                lb_algo rr
                lb_kind NAT
                protocol TCP
                real_server {{Rs1Back}} {{DataPort}} {
                    weight 1
                    {{check}}
                }
                real_server {{Rs2Back}} {{DataPort}} {
                    weight 1
                    {{check}}
                }
            }

            virtual_server {{Vrrp.Vip}} {{EchoPort}} {
                lb_algo wrr
                lb_kind NAT
                protocol TCP
                real_server {{Rs1Back}} {{EchoPort}} {
                    weight 1
                    {{extraRealServerLine}}
                }
                real_server {{Rs2Back}} {{EchoPort}} {
                    weight {{rs2EchoWeight}}
                }
            }

            {{Setup.ExtraVirtualServers?.Invoke(this)}}

            """;
    }

    /// <summary>Rewrites lb's file in place (the path the daemon was started with).</summary>
    public void RewriteConfig(LanHost lb, string text) => Files.Write($"{lb.Name}-vipproxy.conf", text);

    public VipProxyDaemon NodeOn(LanHost lb) => lb == Lb1 ? Node1 : Node2;

    /// <summary>A thread in <paramref name="host"/>'s namespace, disposed with the LAN.</summary>
    public NamespaceThread ThreadIn(LanHost host)
    {
        var thread = new NamespaceThread(host);
        _threads.Add(thread);
        return thread;
    }

    // ---- status ----

    public static async Task<NodeStatus> StatusAsync(VipProxyDaemon node) =>
        NodeStatus.Parse(await ControlClient.RequestAsync(node.Socket, "status", TimeSpan.FromSeconds(5)));

    /// <summary><c>vipproxy status --json</c> run inside the LB host: what an operator sees.</summary>
    public static async Task<NodeStatus> StatusFromCliAsync(VipProxyDaemon node)
    {
        var result = (await Vrrp.RunVipProxyAsync(node.Host, "status", "--json", "--socket", node.Socket)).EnsureSuccess("vipproxy status --json");
        return NodeStatus.Parse(result.StandardOutput);
    }

    /// <summary>Polls the control socket every 50 ms until <paramref name="condition"/> holds; returns the time it took.</summary>
    public static async Task<TimeSpan> EventuallyAsync(VipProxyDaemon node, Func<NodeStatus, bool> condition, string what, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        await Eventually.ValueAsync(() => StatusAsync(node), condition, timeout, what, TimeSpan.FromMilliseconds(50), status => status.Json);
        return clock.Elapsed;
    }

    // ---- MySQL client ----

    /// <summary>
    /// Queries until one is answered or <paramref name="within"/> passes. A VIP that has just appeared on the new
    /// master is not yet reachable: the client's ARP entry follows only once the gratuitous ARP arrives, and a
    /// session opened before that goes to the old master's MAC.
    /// </summary>
    public static async Task<QueryOutcome> QueryUntilAnsweredAsync(Forwarding.NamespaceThread client, Stopwatch clock, TimeSpan within)
    {
        var deadline = clock.Elapsed + within;
        while (true)
        {
            QueryOutcome outcome = await client.RunAsync(() => QueryOnce(clock));
            if (outcome.Succeeded || clock.Elapsed >= deadline)
            {
                return outcome;
            }
        }
    }

    /// <summary>One MySqlConnector session through VIP:8066 (run it on a client-host thread): the server id, or the error.</summary>
    public static QueryOutcome QueryOnce(Stopwatch clock)
    {
        var started = clock.Elapsed;
        var builder = new MySqlConnectionStringBuilder
        {
            Server = Vrrp.Vip.ToString(),
            Port = DataPort,
            UserID = AppUser,
            Password = AppPassword,
            Pooling = false,
            SslMode = MySqlSslMode.None,
            ConnectionTimeout = 1,
            DefaultCommandTimeout = 2,
        };
        try
        {
            using var connection = new MySqlConnection(builder.ConnectionString);
            connection.Open();
            using var command = new MySqlCommand("SELECT @@server_id", connection);
            int serverId = Convert.ToInt32(command.ExecuteScalar(), CultureInfo.InvariantCulture);
            return new QueryOutcome(started, clock.Elapsed, serverId, null);
        }
        catch (Exception e) when (e is MySqlException or SocketException or IOException or InvalidOperationException or TimeoutException)
        {
            return new QueryOutcome(started, clock.Elapsed, 0, $"{e.GetType().Name}: {e.Message}");
        }
    }

    /// <summary>
    /// <paramref name="workers"/> client threads, each running new sessions back to back (paced) until the returned
    /// load's <see cref="QueryLoad.Stop"/> is cancelled or <paramref name="limit"/> passes; a worker takes
    /// <paramref name="gate"/> around each session so that the test can make an event land between sessions.
    /// </summary>
    public QueryLoad StartQueryLoad(int workers, Stopwatch clock, TimeSpan limit, SemaphoreSlim? gate = null)
    {
        var load = new QueryLoad();
        var threads = Enumerable.Range(0, workers).Select(_ => ThreadIn(Client)).ToList();
        load.Tasks = threads.Select((thread, index) => Task.Run(async () =>
        {
            await Task.Delay(TimeSpan.FromMilliseconds(40 * index));
            for (int n = 0; n < 2000 && !load.Stop.IsCancellationRequested && clock.Elapsed < limit; n++)
            {
                if (gate is not null)
                {
                    await gate.WaitAsync();
                }

                try
                {
                    load.Outcomes.Enqueue(await thread.RunAsync(() => QueryOnce(clock)));
                }
                finally
                {
                    gate?.Release();
                }

                await Task.Delay(TimeSpan.FromMilliseconds(60));
            }
        })).ToArray();
        return load;
    }

    // ---- echo streams (both ends in this process) ----

    /// <summary>Echo servers on rs1:9100 and rs2:9100: every byte read is written back; EOF is answered with FIN.</summary>
    public async Task StartEchoServersAsync()
    {
        foreach (var rs in new[] { Rs1, Rs2 })
        {
            var listener = await ThreadIn(rs).ListenAsync(new IPEndPoint(rs.Address, EchoPort));
            _sockets.Add(listener);
            _echoLoops.Add(Task.Run(() => AcceptLoopAsync(listener)));
        }
    }

    private async Task AcceptLoopAsync(Socket listener)
    {
        var token = _closing.Token;
        try
        {
            while (!token.IsCancellationRequested)
            {
                var accepted = await listener.AcceptAsync(token);
                lock (_sockets)
                {
                    _sockets.Add(accepted);
                }

                _ = Task.Run(() => EchoAsync(accepted, token));
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // Teardown.
        }
    }

    private static async Task EchoAsync(Socket socket, CancellationToken token)
    {
        var buffer = new byte[64 * 1024];
        try
        {
            int read;
            while ((read = await socket.ReceiveAsync(buffer, SocketFlags.None, token)) > 0)
            {
                int sent = 0;
                while (sent < read)
                {
                    sent += await socket.SendAsync(buffer.AsMemory(sent, read - sent), SocketFlags.None, token);
                }
            }

            socket.Shutdown(SocketShutdown.Send);
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // The client's outcome says what happened.
        }
    }

    /// <summary>
    /// Connects to VIP:9100 from the client host (the connection is established when this returns), then
    /// streams <paramref name="chunks"/> × <paramref name="chunkSize"/> pseudo-random bytes, one chunk every
    /// <paramref name="pace"/>, while reading the echo; half-closes, reads to EOF and compares SHA-256 both ways.
    /// </summary>
    public async Task<Task<StreamOutcome>> OpenStreamAsync(NamespaceThread client, int seed, int chunks, int chunkSize, TimeSpan pace, TimeSpan deadline)
    {
        var socket = await client.CreateTcpSocketAsync();
        lock (_sockets)
        {
            _sockets.Add(socket);
        }

        using (var connecting = new CancellationTokenSource(TimeSpan.FromSeconds(5)))
        {
            await socket.ConnectAsync(new IPEndPoint(Vrrp.Vip, EchoPort), connecting.Token);
        }

        return Task.Run(() => RunStreamAsync(socket, seed, chunks, chunkSize, pace, deadline));
    }

    private static async Task<StreamOutcome> RunStreamAsync(Socket socket, int seed, int chunks, int chunkSize, TimeSpan pace, TimeSpan deadline)
    {
        using var timeout = new CancellationTokenSource(deadline);
        var token = timeout.Token;
        using var sentHash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        using var receivedHash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        long sent = 0, received = 0;
        var local = socket.LocalEndPoint?.ToString() ?? "?";
        var receiving = Task.Run(async () =>
        {
            var buffer = new byte[64 * 1024];
            int read;
            while ((read = await socket.ReceiveAsync(buffer, SocketFlags.None, token)) > 0)
            {
                receivedHash.AppendData(buffer, 0, read);
                received += read;
            }
        }, token);
        try
        {
            var random = new Random(seed);
            var chunk = new byte[chunkSize];
            for (int i = 0; i < chunks; i++)
            {
                random.NextBytes(chunk);
                sentHash.AppendData(chunk);
                int offset = 0;
                while (offset < chunk.Length)
                {
                    offset += await socket.SendAsync(chunk.AsMemory(offset), SocketFlags.None, token);
                }

                sent += chunk.Length;
                await Task.Delay(pace, token);
            }

            socket.Shutdown(SocketShutdown.Send);
            await receiving;
            bool same = sentHash.GetHashAndReset().AsSpan().SequenceEqual(receivedHash.GetHashAndReset());
            return new StreamOutcome(local, sent, received, same, null);
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException)
        {
            return new StreamOutcome(local, sent, received, false, e is SocketException s ? s.SocketErrorCode.ToString() : e.GetType().Name);
        }
        finally
        {
            await Task.WhenAny(receiving, Task.Delay(TimeSpan.FromSeconds(1)));
            socket.Dispose();
        }
    }

    // ---- metrics ----

    /// <summary>GET /metrics from 127.0.0.1:9300 inside the LB host's namespace (HTTP/1.0, read to EOF).</summary>
    public async Task<string> ScrapeMetricsAsync(LanHost lb)
    {
        var thread = ThreadIn(lb);
        using var socket = await thread.CreateTcpSocketAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, MetricsPort), timeout.Token);
        await socket.SendAsync(Encoding.ASCII.GetBytes("GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n"), SocketFlags.None, timeout.Token);
        var response = new MemoryStream();
        var buffer = new byte[64 * 1024];
        int read;
        while ((read = await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token)) > 0)
        {
            response.Write(buffer, 0, read);
            Assert.True(response.Length < 16 * 1024 * 1024, "metrics response over 16 MiB");
        }

        string text = Encoding.UTF8.GetString(response.ToArray());
        int bodyAt = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        Assert.True(bodyAt > 0, "no HTTP header in the metrics response");
        string head = text[..bodyAt];
        Assert.StartsWith("HTTP/1.", head, StringComparison.Ordinal);
        Assert.Contains(" 200 ", head.Split("\r\n")[0], StringComparison.Ordinal);
        Assert.Contains("text/plain", head, StringComparison.OrdinalIgnoreCase);
        return text[(bodyAt + 4)..];
    }

    public async ValueTask DisposeAsync()
    {
        await _closing.CancelAsync();
        try
        {
            if (Db1 is not null)
            {
                await Db1.DisposeAsync();
            }

            if (Db2 is not null)
            {
                await Db2.DisposeAsync();
            }

            await Lan.DisposeAsync();
        }
        finally
        {
            lock (_sockets)
            {
                foreach (var socket in _sockets)
                {
                    socket.Dispose();
                }
            }

            await Task.WhenAny(Task.WhenAll(_echoLoops), Task.Delay(TimeSpan.FromSeconds(5)));
            foreach (var thread in _threads)
            {
                thread.Dispose();
            }

            _closing.Dispose();
        }
    }
}

/// <summary>What a scenario changes in the hot-standby deployment; the defaults are the plain deployment.</summary>
internal sealed record HotStandbySetup
{
    /// <summary>Extra <c>vipproxy run</c> arguments for lb1 (e.g. <c>--handover after-drain</c>).</summary>
    public string[] Lb1Arguments { get; init; } = [];

    /// <summary>Extra <c>mariadbd</c> options for both servers (e.g. a binary log for replication).</summary>
    public string[] MariaDbArguments { get; init; } = [];

    /// <summary>Extra lines inside the vrrp_instance (e.g. <c>dont_track_virtual_servers</c>).</summary>
    public string InstanceOptions { get; init; } = "";

    /// <summary>Extra lines inside VIP:8066's MYSQL_CHECK (e.g. <c>role primary</c>).</summary>
    public string DataCheckOptions { get; init; } = "";

    /// <summary>More <c>virtual_server</c> blocks for both nodes' files.</summary>
    public Func<HotStandbyLan, string>? ExtraVirtualServers { get; init; }

    /// <summary>Runs once both MariaDB servers are up, before the nodes start (users, replication).</summary>
    public Func<HotStandbyLan, Task>? PrepareDatabases { get; init; }

    /// <summary>When a node is ready for the scenario; default: both real servers of VIP:8066 up.</summary>
    public Func<NodeStatus, bool>? Ready { get; init; }

    public string ReadyDescription { get; init; } = "both MariaDB up";
}

internal sealed record QueryOutcome(TimeSpan Started, TimeSpan Ended, int ServerId, string? Error)
{
    public bool Succeeded => Error is null;
}

internal sealed class QueryLoad
{
    public System.Collections.Concurrent.ConcurrentQueue<QueryOutcome> Outcomes { get; } = new();

    public CancellationTokenSource Stop { get; } = new();

    public Task[] Tasks { get; set; } = [];

    /// <summary>Stops the workers; never waits longer than one session's deadlines.</summary>
    public async Task StopAsync()
    {
        await Stop.CancelAsync();
        await Task.WhenAny(Task.WhenAll(Tasks), Task.Delay(TimeSpan.FromSeconds(10)));
    }

    public List<QueryOutcome> Sorted() => Outcomes.OrderBy(o => o.Started).ToList();
}

internal sealed record StreamOutcome(string Local, long Sent, long Received, bool ChecksumsMatch, string? Error)
{
    public bool Clean => Error is null && ChecksumsMatch && Sent == Received;
}

/// <summary>The fields of <c>vipproxy status --json</c> the daemon scenarios assert on (single vrrp_instance).</summary>
internal sealed record NodeStatus(string Json, VrrpView Vrrp, IReadOnlyList<ServiceView> Services, ReloadView? LastReload)
{
    public ServiceView Service(int port) => Services.Single(s => s.Port == port);

    public static NodeStatus Parse(string json)
    {
        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;
        var instance = root.GetProperty("vrrp_instances").EnumerateArray().Single();
        var vrrp = new VrrpView(
            instance.GetProperty("state").GetString()!,
            instance.GetProperty("effective_priority").GetInt32(),
            instance.GetProperty("master_address").GetString(),
            instance.GetProperty("vips_held").EnumerateArray().Select(v => v.GetString()!).ToList(),
            instance.GetProperty("transitions").GetInt64(),
            instance.GetProperty("drop_counters").EnumerateObject().Sum(c => c.Value.GetInt64()));
        var legacy = DaemonStatus.Parse(json);
        var services = root.GetProperty("virtual_servers").EnumerateArray().Select(v =>
        {
            int port = v.GetProperty("port").GetInt32();
            var suspects = v.GetProperty("real_servers").EnumerateArray()
                .Where(r => r.GetProperty("suspect").GetBoolean()).Select(r => r.GetProperty("address").GetString()!).ToList();
            return new ServiceView(port, v.GetProperty("quorum_up").GetBoolean(), v.GetProperty("listening").GetBoolean(),
                legacy.VirtualServer(port).RealServers, suspects);
        }).ToList();
        ReloadView? reload = root.TryGetProperty("last_reload", out var r) && r.ValueKind == JsonValueKind.Object
            ? new ReloadView(r.GetProperty("applied").GetBoolean(), r.GetProperty("errors").EnumerateArray().Select(e => e.GetString()!).ToList())
            : null;
        return new NodeStatus(json, vrrp, services, reload);
    }
}

internal sealed record VrrpView(string State, int EffectivePriority, string? MasterAddress, IReadOnlyList<string> VipsHeld, long Transitions, long Drops);

internal sealed record ServiceView(int Port, bool QuorumUp, bool Listening, IReadOnlyList<RealServerView> RealServers, IReadOnlyList<string> Suspects)
{
    public RealServerView RealServer(IPAddress address) => RealServers.Single(r => r.Address == address.ToString());
}

internal sealed record ReloadView(bool Applied, IReadOnlyList<string> Errors);

/// <summary>Prometheus text exposition format 0.0.4, checked line by line.</summary>
internal static partial class PrometheusText
{
    /// <summary>Every sample as (name, labels, value); fails on any line that is not a comment, blank or a valid sample.</summary>
    public static List<(string Name, string Labels, double Value)> Parse(string text)
    {
        var samples = new List<(string, string, double)>();
        var typed = new HashSet<string>(StringComparer.Ordinal);
        foreach (var line in text.Split('\n'))
        {
            if (line.Length == 0)
            {
                continue;
            }

            if (line.StartsWith('#'))
            {
                var type = TypeLine().Match(line);
                if (type.Success)
                {
                    Assert.True(typed.Add(type.Groups[1].Value), $"second TYPE line for {type.Groups[1].Value}");
                }
                else
                {
                    Assert.Matches(HelpLine(), line);
                }

                continue;
            }

            var sample = SampleLine().Match(line);
            Assert.True(sample.Success, $"not a Prometheus sample line: '{line}'");
            string value = sample.Groups[3].Value;
            double parsed = value switch
            {
                "+Inf" => double.PositiveInfinity,
                "-Inf" => double.NegativeInfinity,
                "NaN" => double.NaN,
                _ => double.Parse(value, NumberStyles.Float, CultureInfo.InvariantCulture),
            };
            samples.Add((sample.Groups[1].Value, sample.Groups[2].Value, parsed));
        }

        return samples;
    }

    [GeneratedRegex(@"^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$")]
    private static partial Regex TypeLine();

    [GeneratedRegex(@"^# HELP [a-zA-Z_:][a-zA-Z0-9_:]* .*$")]
    private static partial Regex HelpLine();

    [GeneratedRegex(@"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*=""(?:[^""\\]|\\.)*"",?)*\})? ([-+0-9.eE]+|\+Inf|-Inf|NaN)( -?[0-9]+)?$")]
    private static partial Regex SampleLine();
}
