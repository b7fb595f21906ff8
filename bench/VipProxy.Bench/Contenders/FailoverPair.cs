using VipProxy.Bench.Infrastructure;
using VipProxy.Lab;

namespace VipProxy.Bench.Contenders;

/// <summary>
/// An active/backup pair holding the VIP over VRRP: the master on the LB host, the backup on the second LB host,
/// both forwarding VIP:80 to the real server. The failover workload cuts the master's link and times how long
/// new connections through the VIP fail.
/// </summary>
internal abstract class FailoverPair(string name)
{
    private static readonly TimeSpan MasterTimeout = TimeSpan.FromSeconds(20);

    public string Name { get; } = name;

    /// <summary>Starts both members and returns once the master holds the VIP.</summary>
    public async Task<RunningPair> StartAsync(ContenderContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var topology = context.Topology;
        var running = new RunningPair(topology);
        try
        {
            foreach (var (host, isMaster) in new[] { (topology.Lb, true), (topology.Lb2, false) })
            {
                var vrrp = new VrrpSettings(host.Interfaces[0].Name, isMaster, topology.Vip, topology.Switch.PrefixLength);
                var directory = context.NewInstanceDirectory($"{Name}-{host.Name}");
                running.Processes.AddRange(Launch(context, host, vrrp, directory));
            }

            await WaitForMasterAsync(topology, running, cancellationToken);
            return running;
        }
        catch
        {
            await running.DisposeAsync();
            throw;
        }
    }

    /// <summary>Writes the member's config files and starts its processes.</summary>
    protected abstract IEnumerable<LanProcess> Launch(ContenderContext context, LanHost host, VrrpSettings vrrp,
        string directory);

    /// <summary>
    /// Both members start as backups and elect after Master_Down_Interval (~3.6 s at advert_int 1), so the VIP
    /// appears on the master some seconds after start; a member that exits meanwhile fails the pair at once.
    /// </summary>
    private static async Task WaitForMasterAsync(BenchTopology topology, RunningPair running,
        CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + MasterTimeout;
        var master = topology.Lb.Interfaces[0];
        while (true)
        {
            if (running.Processes.FirstOrDefault(p => p.HasExited) is { } exited)
            {
                throw new BenchFailureException(
                    $"{Path.GetFileName(exited.Program)} on {exited.Host.Name} exited with code {exited.ExitCode}",
                    exited.OutputLines);
            }

            var addresses = await master.GetIPv4AddressesAsync();
            if (addresses.Any(a => a.Address.Equals(topology.Vip)))
            {
                return;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new BenchFailureException(
                    $"the master ({topology.Lb.Name}) did not take the VIP {topology.Vip} within {MasterTimeout.TotalSeconds:0} s",
                    running.OutputTail());
            }

            await Task.Delay(100, cancellationToken);
        }
    }
}

/// <summary>A started pair. Disposing stops every member and makes sure no VIP is left on either host.</summary>
internal sealed class RunningPair(BenchTopology topology) : IAsyncDisposable
{
    public List<LanProcess> Processes { get; } = [];

    /// <summary>The last lines of every member process, each tagged with its host and program, for a failure report.</summary>
    public IReadOnlyList<string> OutputTail(int totalLines = 12)
    {
        var perProcess = Math.Max(2, totalLines / Math.Max(1, Processes.Count));
        return Processes
            .SelectMany(p => p.OutputLines.TakeLast(perProcess)
                .Select(line => $"{p.Host.Name}/{Path.GetFileName(p.Program)}: {line}"))
            .ToList();
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var process in Processes)
        {
            try
            {
                await process.StopAsync(TimeSpan.FromSeconds(3));
            }
            catch (TimeoutException)
            {
                // The namespace teardown reaps whatever is left.
            }

            await process.DisposeAsync();
        }

        // A member killed without its shutdown path leaves its VIP behind (as keepalived does after kill -9), and the
        // next pair's election would then see two holders.
        foreach (var host in new[] { topology.Lb, topology.Lb2 })
        {
            var device = host.Interfaces[0].Name;
            var addresses = await host.GetIPv4AddressesAsync(device);
            if (addresses.Any(a => a.Address.Equals(topology.Vip)))
            {
                await host.RunAsync("ip", "addr", "del", $"{topology.Vip}/{topology.Switch.PrefixLength}", "dev", device);
            }
        }
    }
}
