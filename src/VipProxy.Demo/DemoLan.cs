using System.Net;
using VipProxy.Lab;

namespace VipProxy.Demo;

/// <summary>
/// The MyCat hot-standby picture of <c>conf/lb1.conf</c> in network namespaces, with RFC 2544 addresses only:
/// the client and both LB hosts on the "front" switch (198.18.0.0/24, where the VIP lives), both LB hosts and the
/// two real servers on the "back" switch (198.18.1.0/24). VipProxy is a proxy, so the LB hosts reach the real
/// servers on their own back subnet and nobody needs a route beyond it; cutting lb1's front link leaves its
/// real-server side intact, as a failed uplink would.
/// </summary>
public sealed class DemoLan : IAsyncDisposable
{
    public static readonly IPAddress Vip = IPAddress.Parse("198.18.0.100");

    private DemoLan(Lan lan, LanSwitch front, LanHost client, LanHost lb1, LanHost lb2, LanHost rs1, LanHost rs2)
    {
        Lan = lan;
        Front = front;
        Client = client;
        Lb1 = lb1;
        Lb2 = lb2;
        Rs1 = rs1;
        Rs2 = rs2;
    }

    public Lan Lan { get; }

    public LanSwitch Front { get; }

    public LanHost Client { get; }

    public LanHost Lb1 { get; }

    public LanHost Lb2 { get; }

    public LanHost Rs1 { get; }

    public LanHost Rs2 { get; }

    public static async Task<DemoLan> CreateAsync(Action<string> log)
    {
        var lan = await Lan.CreateAsync(log).ConfigureAwait(false);
        try
        {
            var front = await lan.AddSwitchAsync("front", 0).ConfigureAwait(false);
            var back = await lan.AddSwitchAsync("back", 1).ConfigureAwait(false);
            var client = await AddAsync(lan, "client", (front, 10)).ConfigureAwait(false);
            var lb1 = await AddAsync(lan, "lb1", (front, 1), (back, 1)).ConfigureAwait(false);
            var lb2 = await AddAsync(lan, "lb2", (front, 2), (back, 2)).ConfigureAwait(false);
            var rs1 = await AddAsync(lan, "rs1", (back, 11)).ConfigureAwait(false);
            var rs2 = await AddAsync(lan, "rs2", (back, 12)).ConfigureAwait(false);
            return new DemoLan(lan, front, client, lb1, lb2, rs1, rs2);
        }
        catch
        {
            await lan.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>The interface an LB host's vrrp_instance runs on (and holds the VIP on).</summary>
    public LanInterface FrontOf(LanHost lb) => lb.InterfaceOn(Front);

    /// <summary>One line per host for the timeline: name, namespace, addresses.</summary>
    public IEnumerable<string> Describe() => new[] { Client, Lb1, Lb2, Rs1, Rs2 }.Select(h =>
        $"{h.Name,-6} netns {h.NamespaceName,-18} {string.Join(", ", h.Interfaces.Select(i => $"{i.Address}/{i.PrefixLength} ({i.Switch.Name})"))}");

    /// <summary>Kills every process inside and deletes every namespace; throws if one could not be removed.</summary>
    public ValueTask DisposeAsync() => Lan.DisposeAsync();

    private static async Task<LanHost> AddAsync(Lan lan, string name, params (LanSwitch Switch, int Number)[] links)
    {
        var host = await lan.AddHostAsync(name).ConfigureAwait(false);
        foreach (var (lanSwitch, number) in links)
        {
            await host.ConnectAsync(lanSwitch, number).ConfigureAwait(false);
        }

        return host;
    }
}
