using System.Globalization;
using System.Text.Json;
using VipProxy.Host.Control;
using VipProxy.Lab;

namespace VipProxy.Scenario.Tests.Forwarding;

/// <summary>
/// The product daemon, <c>dotnet vipproxy.dll run -f FILE --socket PATH</c>, inside a host (started by
/// <see cref="Vrrp.StartVipProxy"/>), with its status read the two ways an operator has: the CLI
/// (<c>vipproxy status --json</c>, run inside the host) and the control socket itself, which the CLI prints
/// verbatim in --json mode and which is cheap enough to poll for detection times.
/// </summary>
internal sealed class VipProxyDaemon
{
    private VipProxyDaemon(LanHost host, LanProcess process, string socket)
    {
        Host = host;
        Process = process;
        Socket = socket;
    }

    public LanHost Host { get; }

    public LanProcess Process { get; }

    public string Socket { get; }

    /// <summary>Starts the daemon and waits for its "started" line (listeners are open by then).</summary>
    public static async Task<VipProxyDaemon> StartAsync(LanHost host, ScenarioFiles files, string config, params string[] extraArguments)
    {
        var process = Vrrp.StartVipProxy(host, files, config, extraArguments);
        await process.WaitForOutputAsync("started from", TimeSpan.FromSeconds(30));
        return new VipProxyDaemon(host, process, Vrrp.VipProxySocket(host, files));
    }

    /// <summary><c>vipproxy status --json --socket PATH</c>, run inside the LB host.</summary>
    public async Task<DaemonStatus> StatusFromCliAsync()
    {
        var result = (await Vrrp.RunVipProxyAsync(Host, "status", "--json", "--socket", Socket)).EnsureSuccess("vipproxy status --json");
        return DaemonStatus.Parse(result.StandardOutput);
    }

    /// <summary>The same JSON straight from the control socket (no process start: fit for polling).</summary>
    public async Task<DaemonStatus> StatusAsync() =>
        DaemonStatus.Parse(await ControlClient.RequestAsync(Socket, "status", TimeSpan.FromSeconds(5)));

    /// <summary>VmRSS of the daemon process, in KiB, from /proc (pids are global: no pid namespace).</summary>
    public long ResidentKiB()
    {
        foreach (var line in File.ReadLines($"/proc/{Process.Id}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                return long.Parse(line["VmRSS:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
            }
        }

        throw new InvalidOperationException($"no VmRSS for pid {Process.Id}");
    }

    /// <summary>The daemon's one-line-per-connection log records (EventId 1000) printed so far.</summary>
    public IReadOnlyList<string> ConnectionLines() =>
        Process.OutputLines.Where(l => l.Contains(" bytes up, ", StringComparison.Ordinal)).ToList();

    /// <summary>SIGTERM and wait for a clean exit.</summary>
    public async Task StopAsync() => Assert.Equal(0, await Process.StopAsync(TimeSpan.FromSeconds(15)));
}

/// <summary>The parts of <c>vipproxy status --json</c> the scenarios read, by their snake_case names.</summary>
internal sealed record DaemonStatus(IReadOnlyList<VirtualServerView> VirtualServers)
{
    public VirtualServerView VirtualServer(int port) =>
        VirtualServers.SingleOrDefault(v => v.Port == port) ?? throw new InvalidOperationException($"no virtual_server on port {port}");

    public static DaemonStatus Parse(string json)
    {
        using var document = JsonDocument.Parse(json);
        var virtualServers = document.RootElement.GetProperty("virtual_servers").EnumerateArray().Select(v => new VirtualServerView(
            v.GetProperty("address").GetString()!,
            v.GetProperty("port").GetInt32(),
            v.GetProperty("scheduler").GetString()!,
            v.GetProperty("persistence_entries").GetInt32(),
            v.GetProperty("active_connections").GetInt64(),
            v.GetProperty("total_connections").GetInt64(),
            v.GetProperty("refused_connections").GetInt64(),
            v.GetProperty("real_servers").EnumerateArray().Select(r => new RealServerView(
                r.GetProperty("address").GetString()!,
                r.GetProperty("port").GetInt32(),
                r.GetProperty("weight").GetInt32(),
                r.GetProperty("up").GetBoolean(),
                r.GetProperty("last_check").GetString(),
                r.GetProperty("active_connections").GetInt64(),
                r.GetProperty("total_connections").GetInt64(),
                r.GetProperty("bytes_in").GetInt64(),
                r.GetProperty("bytes_out").GetInt64(),
                r.GetProperty("failed_connects").GetInt64())).ToList())).ToList();
        return new DaemonStatus(virtualServers);
    }
}

internal sealed record VirtualServerView(
    string Address,
    int Port,
    string Scheduler,
    int PersistenceEntries,
    long ActiveConnections,
    long TotalConnections,
    long RefusedConnections,
    IReadOnlyList<RealServerView> RealServers)
{
    public RealServerView RealServer(LanHost host) =>
        RealServers.SingleOrDefault(r => r.Address == host.Address.ToString())
        ?? throw new InvalidOperationException($"virtual_server {Port} has no real_server {host.Address}");
}

internal sealed record RealServerView(
    string Address,
    int Port,
    int Weight,
    bool Up,
    string? LastCheck,
    long ActiveConnections,
    long TotalConnections,
    long BytesIn,
    long BytesOut,
    long FailedConnects);
