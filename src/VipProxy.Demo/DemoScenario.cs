using System.Globalization;
using VipProxy.Host.Status;
using VipProxy.Lab;

namespace VipProxy.Demo;

/// <summary>
/// The story the demo tells, step by step on the timeline: MariaDB and two nodes come up, queries through the VIP
/// are spread over the real servers, lb1's link is cut and lb2 takes the VIP (outage measured from the client),
/// lb1 comes back and preempts, and a stopped MariaDB is taken out by the health checks while queries go on.
/// Every wait is bounded; a step that does not happen throws <see cref="DemoStepFailedException"/>.
/// </summary>
public sealed partial class DemoScenario : IAsyncDisposable
{
    /// <summary>Queries are started this often while something changes, which bounds the outage's resolution.</summary>
    private static readonly TimeSpan ProbeInterval = TimeSpan.FromMilliseconds(50);

    private static readonly TimeSpan StartupLimit = TimeSpan.FromSeconds(60);

    private readonly DemoLan _lan;
    private readonly Timeline _timeline;
    private readonly string _files;
    private readonly Action<string> _log;
    private readonly CancellationToken _cancellation;
    private readonly DemoClient _client;
    private readonly List<MariaDbServer> _databases = [];
    private DemoNode? _lb1;
    private DemoNode? _lb2;

    public DemoScenario(DemoLan lan, Timeline timeline, string files, Action<string> log, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(lan);
        ArgumentNullException.ThrowIfNull(timeline);
        _lan = lan;
        _timeline = timeline;
        _files = files;
        _log = log;
        _cancellation = cancellation;
        _client = new DemoClient(lan.Client, DemoLan.Vip, timeline.Clock);
    }

    private DemoNode Lb1 => _lb1 ?? throw new InvalidOperationException("lb1 is not started");

    private DemoNode Lb2 => _lb2 ?? throw new InvalidOperationException("lb2 is not started");

    public async Task RunAsync()
    {
        _timeline.Event($"LAN {_lan.Lan.Prefix} is up:");
        foreach (var line in _lan.Describe())
        {
            _timeline.Detail(line);
        }

        // Steps that start processes take no token; between steps is where an interrupt takes effect.
        Func<Task>[] steps = [StartDatabasesAsync, StartNodesAsync, QueryThroughVipAsync, FailOverAsync, PreemptBackAsync, TakeRealServerOutAsync];
        foreach (var step in steps)
        {
            _cancellation.ThrowIfCancellationRequested();
            await step().ConfigureAwait(false);
        }
    }

    /// <summary>Kills the MariaDB servers and deletes their data directories (the LAN's teardown does the rest).</summary>
    public async ValueTask DisposeAsync()
    {
        foreach (var database in _databases)
        {
            await database.DisposeAsync().ConfigureAwait(false);
        }

        _databases.Clear();
    }

    private async Task StartDatabasesAsync()
    {
        _timeline.Event("starting MariaDB on rs1 and rs2 (ports 8066 and 9066, as MyCat's data and admin ports)");
        var starting = new[] { StartDatabaseAsync(_lan.Rs1, 1), StartDatabaseAsync(_lan.Rs2, 2) };
        try
        {
            await Task.WhenAll(starting).ConfigureAwait(false);
        }
        finally
        {
            // Whatever started is disposed with the scenario, even if the other one failed.
            _databases.AddRange(starting.Where(t => t.IsCompletedSuccessfully).Select(t => t.Result));
        }

        foreach (var database in _databases)
        {
            _timeline.Event($"MariaDB up on {HostNameOf(database.Address)} {database.Address}:{DemoConfig.DataPort} and :{DemoConfig.ManagementPort} (server_id {ServerIdOf(database)})");
        }
    }

    private async Task<MariaDbServer> StartDatabaseAsync(LanHost host, int serverId)
    {
        var server = await MariaDbServer.StartAsync(host, DemoConfig.DataPort,
            [$"--extra-port={DemoConfig.ManagementPort}", $"--server-id={serverId}"], _log).ConfigureAwait(false);
        try
        {
            await server.CreateUserAsync(DemoConfig.MonitorUser, DemoConfig.MonitorPassword).ConfigureAwait(false);
            await server.CreateUserAsync(DemoConfig.AppUser, DemoConfig.AppPassword).ConfigureAwait(false);
            return server;
        }
        catch
        {
            await server.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private async Task StartNodesAsync()
    {
        IReadOnlyList<System.Net.IPAddress> realServers = [_lan.Rs1.Address, _lan.Rs2.Address];
        var nodes = new[] { (_lan.Lb1, true), (_lan.Lb2, false) }.Select(async node =>
        {
            var (host, master) = node;
            var config = Path.Combine(_files, $"{host.Name}.conf");
            await File.WriteAllTextAsync(config,
                DemoConfig.For(host.Name, master, _lan.FrontOf(host).Name, DemoLan.Vip, realServers), _cancellation).ConfigureAwait(false);
            return await DemoNode.StartAsync(host, config, Path.Combine(_files, $"{host.Name}.sock")).ConfigureAwait(false);
        }).ToList();
        _timeline.Event($"starting vipproxy on lb1 (state MASTER, priority {DemoConfig.MasterPriority}) and lb2 (state BACKUP, priority {DemoConfig.BackupPriority}), VRID {DemoConfig.VirtualRouterId}, VIP {DemoLan.Vip}");
        _timeline.Detail($"files: {Path.Combine(_files, "lb1.conf")}, {Path.Combine(_files, "lb2.conf")}");
        try
        {
            await Task.WhenAll(nodes).ConfigureAwait(false);
        }
        catch (TimeoutException e)
        {
            throw new DemoStepFailedException($"a vipproxy node did not start: {e.Message}", e);
        }

        (_lb1, _lb2) = (nodes[0].Result, nodes[1].Result);

        var elected = await WaitUntilAsync(async () =>
            await Lb1.VrrpStateAsync().ConfigureAwait(false) == ("MASTER", true)
            && (await Lb2.VrrpStateAsync().ConfigureAwait(false)).State == "BACKUP", StartupLimit, "lb1 MASTER with the VIP and lb2 BACKUP").ConfigureAwait(false);
        _timeline.Event(elected, $"lb1 MASTER holds VIP {DemoLan.Vip}, lb2 BACKUP");

        var healthy = await WaitUntilAsync(async () =>
            await AllRealServersUpAsync(Lb1).ConfigureAwait(false) && await AllRealServersUpAsync(Lb2).ConfigureAwait(false),
            StartupLimit, "every real server up on lb1 and lb2").ConfigureAwait(false);
        var sample = (await Lb1.TryStatusAsync().ConfigureAwait(false))?.VirtualServers[0].RealServers[0];
        _timeline.Event(healthy, "MYSQL_CHECK passed on lb1 and lb2: rs1 and rs2 up on VIP:8066 and VIP:9066");
        if (sample is not null)
        {
            _timeline.Detail($"{HostNameOf(sample.Address)}:{sample.Port} last_check: {sample.LastCheck}");
        }
    }

    private async Task QueryThroughVipAsync()
    {
        foreach (var (port, count, how) in new[] { (DemoConfig.DataPort, 6, "lb_algo rr"), (DemoConfig.ManagementPort, 4, $"rr, persistence_timeout {DemoConfig.ManagementPersistenceSeconds}") })
        {
            var answers = new List<string>();
            for (int i = 0; i < count; i++)
            {
                _cancellation.ThrowIfCancellationRequested();
                var result = await _client.QueryAsync(port).ConfigureAwait(false);
                if (!result.Succeeded)
                {
                    throw new DemoStepFailedException($"a query through VIP:{port} failed: {result.Error}");
                }

                answers.Add(ServerName(result.ServerId));
            }

            var sticky = answers.Distinct().Count() == 1 ? " (the client sticks to one real server)" : "";
            _timeline.Event($"client: mariadb -h {DemoLan.Vip} -P {port} -e 'SELECT @@server_id' x{count} ({how}): answered by {string.Join(", ", answers)}{sticky}");
            if (port == DemoConfig.DataPort && answers.Distinct().Count() != 2)
            {
                throw new DemoStepFailedException($"round robin on VIP:{port} did not use both real servers: {string.Join(", ", answers)}");
            }
        }
    }

    private async Task<bool> AllRealServersUpAsync(DemoNode node) =>
        (await node.TryStatusAsync().ConfigureAwait(false)) is { } status
        && status.VirtualServers.Count == 2
        && status.VirtualServers.All(v => v.RealServers.Count == 2 && v.RealServers.All(r => r.Up));

    /// <summary>Polls <paramref name="condition"/> every 50 ms; returns when it held, on the demo's clock.</summary>
    private async Task<TimeSpan> WaitUntilAsync(Func<Task<bool>> condition, TimeSpan limit, string what)
    {
        var deadline = _timeline.Clock.Elapsed + limit;
        while (!await condition().ConfigureAwait(false))
        {
            if (_timeline.Clock.Elapsed > deadline)
            {
                throw new DemoStepFailedException($"not seen within {Timeline.Seconds(limit)}: {what}");
            }

            await Task.Delay(50, _cancellation).ConfigureAwait(false);
        }

        return _timeline.Clock.Elapsed;
    }

    private string HostNameOf(string address) =>
        address == _lan.Rs1.Address.ToString() ? "rs1" : address == _lan.Rs2.Address.ToString() ? "rs2" : address;

    private string HostNameOf(System.Net.IPAddress address) => HostNameOf(address.ToString());

    private static string ServerName(int serverId) => serverId is 1 or 2
        ? string.Create(CultureInfo.InvariantCulture, $"rs{serverId}")
        : string.Create(CultureInfo.InvariantCulture, $"server_id {serverId}");

    private int ServerIdOf(MariaDbServer database) => database.Address.Equals(_lan.Rs1.Address) ? 1 : 2;

    private static RealServerReport? RealServer(StatusReport? status, string address, int port) =>
        status?.VirtualServers.FirstOrDefault(v => v.Port == port)?.RealServers.FirstOrDefault(r => r.Address == address);
}
