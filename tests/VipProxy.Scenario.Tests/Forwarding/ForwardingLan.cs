using System.Globalization;
using System.Net;
using VipProxy.Lab;

namespace VipProxy.Scenario.Tests.Forwarding;

/// <summary>
/// The LVS-NAT picture in namespaces: a client host on the "front" switch (198.18.0.0/24), the LB host on both
/// switches holding the VIP 198.18.0.100 on its front interface, and real-server hosts on the "back" switch
/// (198.18.1.0/24). The LB is a proxy, so nobody needs routes beyond their own subnet: the client talks to the VIP,
/// the real servers see the LB's back address.
/// </summary>
internal sealed class ForwardingLan : IAsyncDisposable
{
    public static readonly IPAddress Vip = Vrrp.Vip;

    private readonly List<NamespaceThread> _threads = [];

    private ForwardingLan(Lan lan, LanHost client, LanHost lb, IReadOnlyList<LanHost> realServers, IReadOnlyList<IPAddress> clientSources)
    {
        Lan = lan;
        Client = client;
        Lb = lb;
        RealServers = realServers;
        ClientSources = clientSources;
    }

    public Lan Lan { get; }

    public LanHost Client { get; }

    public LanHost Lb { get; }

    /// <summary>rs1, rs2…: 198.18.1.11, 198.18.1.12…</summary>
    public IReadOnlyList<LanHost> RealServers { get; }

    /// <summary>Extra addresses of the client host (198.18.0.21…), to be several clients for hash schedulers.</summary>
    public IReadOnlyList<IPAddress> ClientSources { get; }

    public static IPEndPoint VipEndpoint(int port) => new(Vip, port);

    public static async Task<ForwardingLan> CreateAsync(Action<string> log, int realServers = 2, int clientSources = 0)
    {
        var lan = await Lan.CreateAsync(log);
        try
        {
            var front = await lan.AddSwitchAsync("front", 0);
            var back = await lan.AddSwitchAsync("back", 1);
            var client = await lan.AddHostAsync("client");
            await client.ConnectAsync(front, 10);
            var lb = await lan.AddHostAsync("lb");
            await lb.ConnectAsync(front, 2);
            await lb.ConnectAsync(back, 2);
            var servers = new List<LanHost>();
            for (int i = 1; i <= realServers; i++)
            {
                var server = await lan.AddHostAsync(string.Create(CultureInfo.InvariantCulture, $"rs{i}"));
                await server.ConnectAsync(back, 10 + i);
                servers.Add(server);
            }

            (await lb.RunAsync("ip", "addr", "add", $"{Vip}/32", "dev", lb.InterfaceOn(front).Name))
                .EnsureSuccess("adding the VIP to the LB");
            var sources = new List<IPAddress>();
            for (int i = 0; i < clientSources; i++)
            {
                var address = front.AddressOf(21 + i);
                (await client.RunAsync("ip", "addr", "add", $"{address}/24", "dev", client.Interfaces[0].Name))
                    .EnsureSuccess("adding a client source address");
                sources.Add(address);
            }

            return new ForwardingLan(lan, client, lb, servers, sources);
        }
        catch
        {
            await lan.DisposeAsync();
            throw;
        }
    }

    /// <summary>A thread in <paramref name="host"/>'s namespace, disposed with the LAN.</summary>
    public NamespaceThread ThreadIn(LanHost host)
    {
        var thread = new NamespaceThread(host);
        _threads.Add(thread);
        return thread;
    }

    public async ValueTask DisposeAsync()
    {
        // Processes first (Lan kills them), then the threads: a thread blocked in a socket call ends with its peer.
        try
        {
            await Lan.DisposeAsync();
        }
        finally
        {
            foreach (var thread in _threads)
            {
                thread.Dispose();
            }
        }
    }
}

/// <summary>keepalived.conf text for the forwarding scenarios.</summary>
internal static class ForwardingConfig
{
    /// <summary><c>virtual_server VIP PORT { lb_algo ALGO; protocol TCP; OPTIONS; real_server … }</c>.</summary>
    public static string VirtualServer(int port, string algorithm, string options, params string[] realServers) => $$"""
        virtual_server {{ForwardingLan.Vip}} {{port}} {
            lb_algo {{algorithm}}
            lb_kind NAT
            protocol TCP
            {{options}}
        {{string.Join("\n", realServers)}}
        }

        """;

    /// <summary><c>real_server HOST PORT { BODY }</c>; no checker means always up.</summary>
    public static string RealServer(LanHost host, int port, string body = "") => $$"""
            real_server {{host.Address}} {{port}} {
                {{body}}
            }
        """;
}
