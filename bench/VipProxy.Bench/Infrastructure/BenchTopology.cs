using System.Net;
using VipProxy.Lab;

namespace VipProxy.Bench.Infrastructure;

/// <summary>
/// The benchmark LAN: one bridge (198.18.0.0/24) with the client (.1), the load balancer (.2), a second load
/// balancer for the failover pair (.3) and the real server (.10). One bridge, as for REFERENCE.md's HAProxy
/// anchor figures, so the numbers compare with them. A full proxy (HAProxy, VipProxy) connects to the real server
/// from its own address, so no routing through the LB is needed. The VIP (.100) is only held during failover.
/// </summary>
internal sealed class BenchTopology : IAsyncDisposable
{
    private BenchTopology(Lan lan, LanSwitch lanSwitch, LanHost client, LanHost lb, LanHost lb2, LanHost realServer)
    {
        Lan = lan;
        Switch = lanSwitch;
        Client = client;
        Lb = lb;
        Lb2 = lb2;
        RealServer = realServer;
        Vip = lanSwitch.AddressOf(100);
    }

    public Lan Lan { get; }

    public LanSwitch Switch { get; }

    public LanHost Client { get; }

    /// <summary>The load balancer every single-proxy contender runs on, and the failover pair's master.</summary>
    public LanHost Lb { get; }

    /// <summary>The failover pair's backup.</summary>
    public LanHost Lb2 { get; }

    public LanHost RealServer { get; }

    public IPAddress Vip { get; }

    public static async Task<BenchTopology> CreateAsync(Action<string> log, CancellationToken cancellationToken)
    {
        var lan = await Lan.CreateAsync(log);
        try
        {
            var lanSwitch = await lan.AddSwitchAsync("lan", 0);
            var client = await AddAsync(lan, lanSwitch, "client", 1);
            var lb = await AddAsync(lan, lanSwitch, "lb", 2);
            var lb2 = await AddAsync(lan, lanSwitch, "lb2", 3);
            var realServer = await AddAsync(lan, lanSwitch, "rs1", 10);
            foreach (var host in new[] { client, lb, lb2, realServer })
            {
                cancellationToken.ThrowIfCancellationRequested();
                await TuneAsync(host);
            }

            return new BenchTopology(lan, lanSwitch, client, lb, lb2, realServer);
        }
        catch
        {
            await lan.DisposeAsync();
            throw;
        }
    }

    public ValueTask DisposeAsync() => Lan.DisposeAsync();

    private static async Task<LanHost> AddAsync(Lan lan, LanSwitch lanSwitch, string name, int number)
    {
        var host = await lan.AddHostAsync(name);
        await host.ConnectAsync(lanSwitch, number);
        return host;
    }

    /// <summary>
    /// Per-namespace TCP settings (each namespace has its own copy, so the root namespace is untouched): a wide
    /// ephemeral port range and TIME_WAIT reuse, because the `Connection: close` workload opens tens of thousands
    /// of connections per run from the client and, through a proxy, from the LB; and deep accept queues so a
    /// burst of connects is not dropped by the listener.
    /// </summary>
    private static async Task TuneAsync(LanHost host)
    {
        (await host.RunAsync("sysctl", "-q", "-w",
                "net.ipv4.ip_local_port_range=1024 65000",
                "net.ipv4.tcp_tw_reuse=1",
                "net.core.somaxconn=8192",
                "net.ipv4.tcp_max_syn_backlog=8192"))
            .EnsureSuccess($"tuning TCP on {host.Name}");
    }
}
