using System.Diagnostics;
using VipProxy.Scenario.Tests.Daemon;
using Xunit.Abstractions;
using static VipProxy.Scenario.Tests.Daemon.HotStandbyLan;

namespace VipProxy.Scenario.Tests.Faults;

/// <summary>
/// Issue 7, split brain: the two LB nodes stop hearing each other's adverts while the client still reaches both
/// (the front switch stops flooding multicast, so VRRP to 224.0.0.18 is lost while unicast and broadcast ARP pass:
/// what a firewall dropping protocol 112 or a switch's broken multicast filtering does, the common cause of a real
/// split brain; a pulled cable would instead put the node in FAULT). Both become master; the client's ARP cache
/// follows the last gratuitous ARP, the backup's. On heal, exactly one master must remain within one advert
/// interval plus a margin, it must re-send gratuitous ARP (keepalived's garp_lower_prio_repeat, helped by
/// higher_prio_send_advert), and the client must reach it at the first try.
/// </summary>
[Collection(NetworkScenariosCollection.Name)]
[Trait("Category", "Root")]
public sealed class SplitBrainScenario(ITestOutputHelper output)
{
    private static readonly TimeSpan AdvertInterval = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan HealMargin = TimeSpan.FromSeconds(1.5);

    [Fact]
    public async Task Healing_a_split_brain_leaves_one_master_within_an_advert_interval_which_re_sends_gratuitous_ARP_and_serves_the_client()
    {
        using var files = new ScenarioFiles();
        await using var lan = await StartAsync(output.WriteLine, files);
        var client = lan.ThreadIn(lan.Client);
        var clock = Stopwatch.StartNew();
        var lb1Mac = await Vrrp.MacOfAsync(lan.Lb1);
        var lb2Mac = await Vrrp.MacOfAsync(lan.Lb2);
        var first = await client.RunAsync(() => QueryOnce(clock));
        Assert.True(first.Succeeded, first.Error);
        Assert.Contains(lb1Mac, await Vrrp.NeighbourEntryAsync(lan.Client), StringComparison.OrdinalIgnoreCase);

        // 1. Partition: adverts between lb1 and lb2 are lost; lb2 times out and becomes a second master.
        await lan.Front.SetMulticastBlockedAsync(true);
        var lb2Master = await EventuallyAsync(lan.Node2, s => s.Vrrp.State == "MASTER", "lb2 MASTER during the partition", MasterDownInterval + TimeSpan.FromSeconds(5));
        var split1 = await StatusFromCliAsync(lan.Node1);
        var split2 = await StatusFromCliAsync(lan.Node2);
        Assert.Equal("MASTER", split1.Vrrp.State);
        Assert.Equal("MASTER", split2.Vrrp.State);
        Assert.True(await Vrrp.HoldsVipAsync(lan.Lb1));
        Assert.True(await Vrrp.HoldsVipAsync(lan.Lb2));

        // Let lb2's second gratuitous ARP burst (garp_master_delay 5 s) pass, so that any ARP after the heal is new.
        await Task.Delay(TimeSpan.FromSeconds(5.5));
        string splitEntry = await Vrrp.NeighbourEntryAsync(lan.Client);
        output.WriteLine($"split brain: lb2 MASTER {lb2Master.TotalMilliseconds:F0} ms after the partition (Master_Down_Interval {MasterDownInterval.TotalMilliseconds:F0} ms); " +
            $"both hold the VIP; client's entry: '{splitEntry}' (lb1 {lb1Mac}, lb2 {lb2Mac})");
        Assert.Contains(lb2Mac, splitEntry, StringComparison.OrdinalIgnoreCase);

        // 2. Heal, with every ARP for the VIP that reaches the client captured.
        var arps = lan.Client.Start("tcpdump", "-l", "-nn", "-e", "-i", lan.Client.Interfaces[0].Name, $"arp and host {Vrrp.Vip}");
        await arps.WaitForOutputAsync("listening on", TimeSpan.FromSeconds(10));
        int capturedBefore = arps.OutputLines.Count;
        var healing = Stopwatch.StartNew();
        await lan.Front.SetMulticastBlockedAsync(false);
        var oneMaster = await OneMasterAsync(lan, healing, AdvertInterval + HealMargin + TimeSpan.FromSeconds(5));
        string healedEntry = await WaitForNeighbourAsync(lan, lb1Mac, TimeSpan.FromSeconds(2));
        var entryFollowed = healing.Elapsed;
        var query = await client.RunAsync(() => QueryOnce(clock));
        await Task.Delay(TimeSpan.FromMilliseconds(300)); // tcpdump prints with a small delay
        await arps.StopAsync();
        var captured = arps.OutputLines.Skip(capturedBefore).Where(l => l.Contains("ARP", StringComparison.Ordinal)).ToList();
        foreach (var line in captured)
        {
            output.WriteLine("  arp after heal: " + line);
        }

        var lb1Garps = captured.Where(l => IsGratuitousArpFrom(l, lb1Mac)).ToList();
        var lb2Garps = captured.Where(l => IsGratuitousArpFrom(l, lb2Mac)).ToList();
        var lowerPriorityLine = lan.Node1.Process.OutputLines.FirstOrDefault(l => l.Contains("with lower priority", StringComparison.Ordinal));
        output.WriteLine($"heal: one master (lb1) after {oneMaster.TotalMilliseconds:F0} ms (bound {(AdvertInterval + HealMargin).TotalMilliseconds:F0} ms); " +
            $"client's entry on lb1 after {entryFollowed.TotalMilliseconds:F0} ms: '{healedEntry}'; {lb1Garps.Count} gratuitous ARPs from lb1, {lb2Garps.Count} from lb2; " +
            $"first query {query}; lb1 logged '{lowerPriorityLine}'");

        Assert.True(oneMaster <= AdvertInterval + HealMargin, $"two masters for {oneMaster} after the heal");
        Assert.NotEmpty(lb1Garps);
        Assert.Empty(lb2Garps);
        Assert.NotNull(lowerPriorityLine);
        Assert.True(query.Succeeded, query.Error);
        var final1 = await StatusFromCliAsync(lan.Node1);
        var final2 = await StatusFromCliAsync(lan.Node2);
        Assert.Equal("MASTER", final1.Vrrp.State);
        Assert.Equal("BACKUP", final2.Vrrp.State);
        Assert.Empty(final2.Vrrp.VipsHeld);
        Assert.False(await Vrrp.HoldsVipAsync(lan.Lb2));
        Assert.Equal(lan.Lb1.InterfaceOn(lan.Front).Address.ToString(), final2.Vrrp.MasterAddress);
        Assert.True(final1.Service(DataPort).RealServers.Sum(r => r.TotalConnections) >= 2, "the query after the heal did not go through lb1");
        await Vrrp.AssertVipStaysAsync(lan.Lb1, lan.Lb2, TimeSpan.FromSeconds(1.5));
    }

    /// <summary>Polls both nodes until lb1 is the only MASTER; returns the time since <paramref name="since"/> started.</summary>
    private static async Task<TimeSpan> OneMasterAsync(HotStandbyLan lan, Stopwatch since, TimeSpan timeout)
    {
        while (true)
        {
            var (s1, s2) = (await StatusAsync(lan.Node1), await StatusAsync(lan.Node2));
            if (s1.Vrrp.State == "MASTER" && s2.Vrrp.State != "MASTER")
            {
                return since.Elapsed;
            }

            Assert.True(s1.Vrrp.State == "MASTER", $"lb1 left MASTER during the heal: {s1.Vrrp.State}");
            Assert.True(since.Elapsed < timeout, $"still two masters {since.Elapsed} after the heal");
            await Task.Delay(20);
        }
    }

    /// <summary>The client's neighbour entry for the VIP once it names <paramref name="mac"/>.</summary>
    private static Task<string> WaitForNeighbourAsync(HotStandbyLan lan, string mac, TimeSpan timeout) =>
        Eventually.ValueAsync(() => Vrrp.NeighbourEntryAsync(lan.Client), entry => entry.Contains(mac, StringComparison.OrdinalIgnoreCase),
            timeout, $"the client's entry for the VIP to name {mac} after one master remained", describe: entry => $"'{entry}'");

    /// <summary>tcpdump -e: "TIME SRC-MAC > ff:ff:ff:ff:ff:ff, ethertype ARP …: Request who-has VIP tell VIP".</summary>
    private static bool IsGratuitousArpFrom(string line, string mac) =>
        line.Contains($" {mac} > ", StringComparison.OrdinalIgnoreCase)
        && line.Contains($"tell {Vrrp.Vip},", StringComparison.Ordinal);
}
