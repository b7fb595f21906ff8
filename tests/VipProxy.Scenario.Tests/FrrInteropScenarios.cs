using System.Diagnostics;
using VipProxy.Lab;
using Xunit.Abstractions;
using static VipProxy.Scenario.Tests.Vrrp;

namespace VipProxy.Scenario.Tests;

/// <summary>
/// VipProxy and FRR's vrrpd (frr 8.4, a second independent RFC 5798 implementation, with a macvlan virtual MAC) as the
/// two routers of one virtual router, VRRPv2 (advert 1 s, no authentication: FRR has none) and VRRPv3 (0.2 s).
/// VipProxy sends from its interface's own MAC, FRR from 00:00:5e:00:01:VRID; the client's ARP entry shows who
/// answers for the VIP.
/// </summary>
[Collection(NetworkScenariosCollection.Name)]
[Trait("Category", "Root")]
public sealed class FrrInteropScenarios(ITestOutputHelper output)
{
    private const int Vrid = 51;
    private const int MasterPriority = 150;
    private const int BackupPriority = 100;
    private static readonly TimeSpan Startup = TimeSpan.FromSeconds(15);
    private static readonly TimeSpan Margin = TimeSpan.FromSeconds(0.5);

    public static TheoryData<bool, int> Roles => new()
    {
        { true, 2 },   // FRR master, VipProxy backup
        { false, 2 },  // VipProxy master, FRR backup
        { true, 3 },
        { false, 3 },
    };

    public static TheoryData<Handover, int> Handovers => new()
    {
        { Handover.FrrSigterm, 2 },
        { Handover.FrrNoVrrp, 2 },
        { Handover.VipProxySigterm, 2 },
        { Handover.FrrSigterm, 3 },
        { Handover.FrrNoVrrp, 3 },
        { Handover.VipProxySigterm, 3 },
    };

    public enum Handover
    {
        /// <summary>SIGTERM to FRR's vrrpd on the master.</summary>
        FrrSigterm,

        /// <summary><c>no vrrp 51</c> in FRR's interface config on the master.</summary>
        FrrNoVrrp,

        /// <summary>SIGTERM to VipProxy on the master.</summary>
        VipProxySigterm,
    }

    [Theory]
    [MemberData(nameof(Roles))]
    public async Task The_higher_priority_is_elected_and_a_cut_link_moves_the_VIP_within_Master_Down_Interval(bool frrIsMaster, int version)
    {
        using var files = new ScenarioFiles();
        await using var lan = await Lan.CreateAsync(output.WriteLine, "lb1", "lb2", "client");
        var (lb1, lb2, client) = (lan.Host("lb1"), lan.Host("lb2"), lan.Host("client"));
        await using var group = await StartGroupAsync(files, lb1, lb2, frrIsMaster, version);
        var (master, backup) = (group.Master, group.Backup);

        await ElectedAsync(master, backup);
        await AssertClientReachesVipAtAsync(client, master);

        int transitionsBefore = backup.BecameMaster?.Invoke() ?? 0;
        var cut = Stopwatch.StartNew();
        await master.Host.Interfaces[0].CutLinkAsync();
        if (backup.BecameMaster is { } becameMaster)
        {
            await Eventually.TrueAsync(() => becameMaster() > transitionsBefore, TimeSpan.FromSeconds(10),
                $"{backup.Name} logs Backup -> Master", TimeSpan.FromMilliseconds(5));
        }
        else
        {
            await WaitUntilAsync(backup, holds: true, TimeSpan.FromSeconds(10));
        }

        var takeover = cut.Elapsed;
        await WaitUntilAsync(backup, holds: true, TimeSpan.FromSeconds(10));
        var deadline = MasterDownInterval(version, BackupPriority);
        output.WriteLine($"v{version} {master.Name} master link cut -> VIP on {backup.Name} after {takeover.TotalMilliseconds:F0} ms (Master_Down_Interval {deadline.TotalMilliseconds:F0} ms)");
        Assert.True(takeover <= deadline + Margin, $"takeover took {takeover}, more than Master_Down_Interval {deadline} + {Margin}");
        await AssertClientReachesVipAtAsync(client, backup);

        // Restored, the higher priority preempts again (VipProxy from Fault via Backup; FRR, which stays Master while
        // its parent has no carrier, with its next advert).
        await master.Host.Interfaces[0].RestoreLinkAsync();
        var back = Stopwatch.StartNew();
        await WaitUntilAsync(master, holds: true, TimeSpan.FromSeconds(10));
        await WaitUntilAsync(backup, holds: false, TimeSpan.FromSeconds(10));
        output.WriteLine($"v{version} link restored -> VIP back on {master.Name} after {back.ElapsedMilliseconds} ms");
        if (frrIsMaster)
        {
            // FRR stayed Master through the carrier loss (no transition, so no gratuitous ARP when the link returns):
            // the client's entry still names VipProxy's MAC until the kernel's neighbour probing gives up on it
            // (delay_first_probe_time 5 s + 3 unicast probes of 1 s) and asks again by broadcast.
            var reachable = await Eventually.TrueAsync(async () => await ClientEntryPointsAtAsync(client, master),
                TimeSpan.FromSeconds(20), $"client's ARP entry for the VIP -> {master.Name}", TimeSpan.FromMilliseconds(100));
            output.WriteLine($"v{version} client's ARP entry back on {master.Name} after {reachable.TotalMilliseconds:F0} ms");
        }

        await AssertClientReachesVipAtAsync(client, master);
    }

    [Theory]
    [MemberData(nameof(Handovers))]
    public async Task A_priority_zero_advert_from_the_master_hands_the_VIP_over_within_Skew_Time(Handover handover, int version)
    {
        using var files = new ScenarioFiles();
        await using var lan = await Lan.CreateAsync(output.WriteLine, "lb1", "lb2", "client");
        var (lb1, lb2, client) = (lan.Host("lb1"), lan.Host("lb2"), lan.Host("client"));
        await using var group = await StartGroupAsync(files, lb1, lb2, frrIsMaster: handover != Handover.VipProxySigterm, version);
        var (master, backup) = (group.Master, group.Backup);
        await ElectedAsync(master, backup);

        var clock = Stopwatch.StartNew();
        switch (handover)
        {
            case Handover.FrrSigterm:
                group.Frr.Vrrpd.Signal(UnixSignal.Term);
                break;
            case Handover.FrrNoVrrp:
                await group.Frr.RemoveVirtualRouterAsync();
                break;
            case Handover.VipProxySigterm:
                group.VipProxy.Signal(UnixSignal.Term);
                break;
        }

        await WaitUntilAsync(backup, holds: true, TimeSpan.FromSeconds(5));
        var takeover = clock.Elapsed;
        var deadline = SkewTime(version, BackupPriority);
        output.WriteLine($"v{version} {handover} -> VIP on {backup.Name} after {takeover.TotalMilliseconds:F0} ms (Skew_Time {deadline.TotalMilliseconds:F0} ms)");
        Assert.True(takeover <= deadline + Margin, $"handover took {takeover}, more than Skew_Time {deadline} + {Margin}");
        await WaitUntilAsync(master, holds: false, TimeSpan.FromSeconds(5));
        await AssertClientReachesVipAtAsync(client, backup);
        if (handover != Handover.VipProxySigterm)
        {
            Assert.False(group.VipProxy.HasExited, "VipProxy, the backup, exited");
        }
    }

    /// <summary>RFC 5798 §6.1: 3 × Master_Adver_Interval + Skew_Time (v2: RFC 3768's (256 − priority)/256 s).</summary>
    private static TimeSpan MasterDownInterval(int version, int priority) =>
        (3 * AdvertInterval(version)) + SkewTime(version, priority);

    private static TimeSpan SkewTime(int version, int priority) => version == 2
        ? TimeSpan.FromSeconds((256 - priority) / 256.0)
        : AdvertInterval(version) * ((256 - priority) / 256.0);

    private static TimeSpan AdvertInterval(int version) => TimeSpan.FromSeconds(version == 2 ? 1 : 0.2);

    private async Task<Group> StartGroupAsync(ScenarioFiles files, LanHost lb1, LanHost lb2, bool frrIsMaster, int version)
    {
        var frrHost = frrIsMaster ? lb1 : lb2;
        var vipProxyHost = frrIsMaster ? lb2 : lb1;
        var frrPriority = frrIsMaster ? MasterPriority : BackupPriority;
        var vipProxyPriority = frrIsMaster ? BackupPriority : MasterPriority;
        var vipProxy = StartVipProxy(vipProxyHost, files, version == 2
            ? Instance(vipProxyHost, vipProxyPriority, version: 2, advertInterval: "1")
            : Instance(vipProxyHost, vipProxyPriority, version: 3, advertInterval: "0.2"));
        var frr = await FrrVrrpd.StartAsync(frrHost, Vip, 24, Vrid, version, frrPriority,
            (int)AdvertInterval(version).TotalMilliseconds);
        output.WriteLine($"FRR vrrpd on {frrHost.Name} (priority {frrPriority}), VipProxy on {vipProxyHost.Name} (priority {vipProxyPriority}), VRRPv{version}");
        var frrPeer = new Peer($"FRR@{frrHost.Name}", frrHost, frr.IsMasterAsync, () => Task.FromResult(frr.VirtualMac),
            () => frr.Vrrpd.OutputLines.Count(l => l.Contains("Backup -> Master", StringComparison.Ordinal)));
        var vipProxyPeer = new Peer($"VipProxy@{vipProxyHost.Name}", vipProxyHost, () => HoldsVipAsync(vipProxyHost),
            () => MacOfAsync(vipProxyHost));
        return new Group(frr, vipProxy, frrIsMaster ? frrPeer : vipProxyPeer, frrIsMaster ? vipProxyPeer : frrPeer);
    }

    /// <summary>
    /// Both start as Backup (RFC 5798 §6.4.1); whichever times out first may be master for a moment, and the higher
    /// priority preempts: the election is over once the master holds the VIP and the backup has let go.
    /// </summary>
    private static async Task ElectedAsync(Peer master, Peer backup)
    {
        await WaitUntilAsync(master, holds: true, Startup);
        await WaitUntilAsync(backup, holds: false, Startup);
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(3))
        {
            Assert.True(await master.HoldsVip(), $"{master.Name} lost the VIP after {clock.Elapsed}");
            Assert.False(await backup.HoldsVip(), $"{backup.Name} took the VIP after {clock.Elapsed}");
            await Task.Delay(100);
        }
    }

    private static async Task WaitUntilAsync(Peer peer, bool holds, TimeSpan timeout) =>
        await Eventually.TrueAsync(async () => await peer.HoldsVip() == holds, timeout,
            $"{peer.Name} {(holds ? "holds" : "releases")} the VIP", TimeSpan.FromMilliseconds(20));

    /// <summary>The client's ARP entry for the VIP moves to the holder's MAC (its gratuitous ARP) and pings get replies.</summary>
    private static async Task AssertClientReachesVipAtAsync(LanHost client, Peer holder)
    {
        await Eventually.TrueAsync(async () => await ClientEntryPointsAtAsync(client, holder), TimeSpan.FromSeconds(5),
            $"client's ARP entry for the VIP -> {holder.Name} ({await holder.Mac()})", TimeSpan.FromMilliseconds(100));
        Assert.True(await Ping.ReachesAsync(client, Vip), $"client cannot ping the VIP held by {holder.Name}");
    }

    private static async Task<bool> ClientEntryPointsAtAsync(LanHost client, Peer holder)
    {
        await Ping.ReachesAsync(client, Vip);
        return (await NeighbourEntryAsync(client)).Contains(await holder.Mac(), StringComparison.OrdinalIgnoreCase);
    }

    /// <param name="BecameMaster">For FRR: how many "Backup -> Master" lines vrrpd has logged. Its state is otherwise read
    /// with a vtysh process per poll, which on a loaded 2-core machine takes hundreds of milliseconds; the log line
    /// arrives as the transition happens, so deadlines are timed by it.</param>
    private sealed record Peer(string Name, LanHost Host, Func<Task<bool>> HoldsVip, Func<Task<string>> Mac, Func<int>? BecameMaster = null);

    private sealed record Group(FrrVrrpd Frr, LanProcess VipProxy, Peer Master, Peer Backup) : IAsyncDisposable
    {
        public ValueTask DisposeAsync() => Frr.DisposeAsync();
    }
}
