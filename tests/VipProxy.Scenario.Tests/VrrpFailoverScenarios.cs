using System.Diagnostics;
using VipProxy.Lab;
using Xunit.Abstractions;
using static VipProxy.Scenario.Tests.Vrrp;

namespace VipProxy.Scenario.Tests;

/// <summary>Two VipProxy nodes (the product binary, <c>vipproxy run</c>) and a client on one bridge.</summary>
[Collection(NetworkScenariosCollection.Name)]
[Trait("Category", "Root")]
public sealed class VrrpFailoverScenarios(ITestOutputHelper output)
{
    private static readonly TimeSpan Startup = TimeSpan.FromSeconds(15);

    /// <summary>v2, advert_int 1, backup priority 100: 3 × 1 s + (256 − 100)/256 s.</summary>
    private static readonly TimeSpan MasterDownV2Priority100 = TimeSpan.FromSeconds(3 + (156 / 256.0));

    [Fact]
    public async Task Two_nodes_elect_one_master_a_cut_link_moves_the_VIP_and_the_ARP_entry_and_restoring_it_preempts_back()
    {
        using var files = new ScenarioFiles();
        await using var lan = await Lan.CreateAsync(output.WriteLine, "lb1", "lb2", "client");
        var (lb1, lb2, client) = (lan.Host("lb1"), lan.Host("lb2"), lan.Host("client"));
        StartVipProxy(lb1, files, Instance(lb1, 150, extra: PassAuth));
        StartVipProxy(lb2, files, Instance(lb2, 100, extra: PassAuth));

        await WaitForVipAsync(lb1, held: true, Startup);
        // Both start as backup (RFC 5798 §6.4.1). If lb2's Master_Down_Timer runs out before lb1's first advert
        // arrives (the processes start a few tens of ms apart; with advert_int 0.1 it is 0.36 s), lb2 is master
        // for a moment and yields on that advert (§6.4.3): the election is over once lb2 has let go.
        await WaitForVipAsync(lb2, held: false, Startup);
        await AssertVipStaysAsync(lb1, lb2, TimeSpan.FromSeconds(1.5));
        Assert.True(await Ping.ReachesAsync(client, Vip));
        Assert.Contains(await MacOfAsync(lb1), await NeighbourEntryAsync(client), StringComparison.Ordinal);

        var cut = Stopwatch.StartNew();
        await lb1.Interfaces[0].CutLinkAsync();
        await WaitForVipAsync(lb2, held: true, TimeSpan.FromSeconds(10));
        var takeover = cut.Elapsed;
        output.WriteLine($"link cut -> VIP on lb2 after {takeover.TotalMilliseconds:F0} ms (Master_Down_Interval {MasterDownV2Priority100.TotalMilliseconds:F0} ms)");
        Assert.True(takeover <= MasterDownV2Priority100 + TimeSpan.FromSeconds(0.5), $"takeover took {takeover}");

        // The gratuitous ARP moved the client's entry to lb2 before any new ARP exchange, and the VIP answers there.
        var lb2Mac = await MacOfAsync(lb2);
        await Eventually.TrueAsync(async () => (await NeighbourEntryAsync(client)).Contains(lb2Mac, StringComparison.Ordinal), TimeSpan.FromSeconds(5), "client ARP entry -> lb2", TimeSpan.FromMilliseconds(50));
        Assert.True(await Ping.ReachesAsync(client, Vip));
        await WaitForVipAsync(lb1, held: false, TimeSpan.FromSeconds(5)); // lb1 went to Fault and released it

        await lb1.Interfaces[0].RestoreLinkAsync();
        var back = await WaitForVipAsync(lb1, held: true, TimeSpan.FromSeconds(10));
        output.WriteLine($"link restored -> VIP back on lb1 after {back.TotalMilliseconds:F0} ms");
        await WaitForVipAsync(lb2, held: false, TimeSpan.FromSeconds(3));
        await Eventually.TrueAsync(async () => (await NeighbourEntryAsync(client)).Contains(await MacOfAsync(lb1), StringComparison.Ordinal), TimeSpan.FromSeconds(5), "client ARP entry -> lb1", TimeSpan.FromMilliseconds(50));
    }

    [Fact]
    public async Task With_nopreempt_the_restored_node_stays_backup()
    {
        using var files = new ScenarioFiles();
        await using var lan = await Lan.CreateAsync(output.WriteLine, "lb1", "lb2");
        var (lb1, lb2) = (lan.Host("lb1"), lan.Host("lb2"));
        StartVipProxy(lb1, files, Instance(lb1, 150, version: 3, advertInterval: "0.1", extra: "nopreempt"));
        await WaitForVipAsync(lb1, held: true, Startup);
        StartVipProxy(lb2, files, Instance(lb2, 100, version: 3, advertInterval: "0.1", extra: "nopreempt"));
        await AssertVipStaysAsync(lb1, lb2, TimeSpan.FromSeconds(2)); // lb2 started, heard lb1, stayed backup

        await lb1.Interfaces[0].CutLinkAsync();
        var takeover = await WaitForVipAsync(lb2, held: true, TimeSpan.FromSeconds(5));
        output.WriteLine($"v3 0.1 s link cut -> VIP on lb2 after {takeover.TotalMilliseconds:F0} ms");
        await lb1.Interfaces[0].RestoreLinkAsync();

        await AssertVipStaysAsync(lb2, lb1, TimeSpan.FromSeconds(2));
    }

    [Fact]
    public async Task SIGTERM_on_the_master_hands_over_within_Skew_Time_and_exits_cleanly()
    {
        using var files = new ScenarioFiles();
        await using var lan = await Lan.CreateAsync(output.WriteLine, "lb1", "lb2");
        var (lb1, lb2) = (lan.Host("lb1"), lan.Host("lb2"));
        var master = StartVipProxy(lb1, files, Instance(lb1, 150));
        StartVipProxy(lb2, files, Instance(lb2, 100));
        await WaitForVipAsync(lb1, held: true, Startup);
        // Both start as backup (RFC 5798 §6.4.1). If lb2's Master_Down_Timer runs out before lb1's first advert
        // arrives (the processes start a few tens of ms apart; with advert_int 0.1 it is 0.36 s), lb2 is master
        // for a moment and yields on that advert (§6.4.3): the election is over once lb2 has let go.
        await WaitForVipAsync(lb2, held: false, Startup);
        await AssertVipStaysAsync(lb1, lb2, TimeSpan.FromSeconds(1.5));

        var clock = Stopwatch.StartNew();
        master.Signal(UnixSignal.Term);
        await WaitForVipAsync(lb2, held: true, TimeSpan.FromSeconds(5));
        var handover = clock.Elapsed;
        var skew = TimeSpan.FromSeconds(156 / 256.0);
        output.WriteLine($"SIGTERM -> VIP on lb2 after {handover.TotalMilliseconds:F0} ms (Skew_Time {skew.TotalMilliseconds:F0} ms)");
        Assert.True(handover <= skew + TimeSpan.FromSeconds(0.5), $"handover took {handover}");

        Assert.Equal(0, await master.WaitForExitAsync(TimeSpan.FromSeconds(40)));
        Assert.False(await HoldsVipAsync(lb1));
    }

    [Fact]
    public async Task Kill_9_then_restart_leaves_no_stale_VIP()
    {
        using var files = new ScenarioFiles();
        await using var lan = await Lan.CreateAsync(output.WriteLine, "lb1", "lb2");
        var (lb1, lb2) = (lan.Host("lb1"), lan.Host("lb2"));
        var config = Instance(lb1, 100, version: 3, advertInterval: "0.1");
        var first = StartVipProxy(lb1, files, config);
        await WaitForVipAsync(lb1, held: true, Startup);

        first.Signal(UnixSignal.Kill);
        await first.WaitForExitAsync(TimeSpan.FromSeconds(10));
        Assert.True(await HoldsVipAsync(lb1)); // killed: nobody removed it

        StartVipProxy(lb2, files, Instance(lb2, 200, version: 3, advertInterval: "0.1"));
        await WaitForVipAsync(lb2, held: true, Startup);

        StartVipProxy(lb1, files, config);
        await WaitForVipAsync(lb1, held: false, Startup);
        await AssertVipStaysAsync(lb2, lb1, TimeSpan.FromSeconds(1.5));
    }

    [Fact]
    public async Task Unicast_peers_elect_one_master_and_fail_over_with_multicast_blocked_on_the_bridge()
    {
        using var files = new ScenarioFiles();
        await using var lan = await Lan.CreateAsync(output.WriteLine, "lb1", "lb2");
        await lan.Switch("lan").SetMulticastBlockedAsync(true);
        var (lb1, lb2) = (lan.Host("lb1"), lan.Host("lb2"));
        string Unicast(LanHost self, LanHost peer) => $"unicast_src_ip {self.Address}\n unicast_peer {{\n {peer.Address}\n }}";
        StartVipProxy(lb1, files, Instance(lb1, 150, version: 3, advertInterval: "0.1", extra: Unicast(lb1, lb2)));
        StartVipProxy(lb2, files, Instance(lb2, 100, version: 3, advertInterval: "0.1", extra: Unicast(lb2, lb1)));

        await WaitForVipAsync(lb1, held: true, Startup);
        // Both start as backup (RFC 5798 §6.4.1). If lb2's Master_Down_Timer runs out before lb1's first advert
        // arrives (the processes start a few tens of ms apart; with advert_int 0.1 it is 0.36 s), lb2 is master
        // for a moment and yields on that advert (§6.4.3): the election is over once lb2 has let go.
        await WaitForVipAsync(lb2, held: false, Startup);
        await AssertVipStaysAsync(lb1, lb2, TimeSpan.FromSeconds(1.5));

        await lb1.Interfaces[0].CutLinkAsync();
        var takeover = await WaitForVipAsync(lb2, held: true, TimeSpan.FromSeconds(5));
        output.WriteLine($"unicast v3 0.1 s link cut -> VIP on lb2 after {takeover.TotalMilliseconds:F0} ms");
    }
}
