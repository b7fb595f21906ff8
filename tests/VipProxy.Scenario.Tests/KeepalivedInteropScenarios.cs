using System.Diagnostics;
using VipProxy.Lab;
using Xunit.Abstractions;
using static VipProxy.Scenario.Tests.Vrrp;

namespace VipProxy.Scenario.Tests;

/// <summary>VipProxy and keepalived 2.2.7 (the reference implementation) as the two routers of one virtual router.</summary>
[Collection(NetworkScenariosCollection.Name)]
[Trait("Category", "Root")]
public sealed class KeepalivedInteropScenarios(ITestOutputHelper output)
{
    private static readonly TimeSpan Startup = TimeSpan.FromSeconds(15);

    public static TheoryData<bool, int> Roles => new()
    {
        { true, 2 },   // keepalived master, VipProxy backup, VRRPv2 with PASS
        { false, 2 },  // VipProxy master, keepalived backup, VRRPv2 with PASS
        { true, 3 },   // the same with VRRPv3
        { false, 3 },
    };

    [Theory]
    [MemberData(nameof(Roles))]
    public async Task The_master_holds_the_VIP_and_SIGTERM_hands_it_to_the_other_implementation(bool keepalivedIsMaster, int version)
    {
        using var files = new ScenarioFiles();
        await using var lan = await Lan.CreateAsync(output.WriteLine, "lb1", "lb2");
        var (lb1, lb2) = (lan.Host("lb1"), lan.Host("lb2"));
        string Config(LanHost host, int priority) => version == 2
            ? Instance(host, priority, version: 2, advertInterval: "1", extra: PassAuth)
            : Instance(host, priority, version: 3, advertInterval: "0.2");
        var master = keepalivedIsMaster
            ? StartKeepalived(lb1, files, Config(lb1, 150))
            : StartVipProxy(lb1, files, Config(lb1, 150));
        var backup = keepalivedIsMaster
            ? StartVipProxy(lb2, files, Config(lb2, 100))
            : StartKeepalived(lb2, files, Config(lb2, 100));

        await WaitForVipAsync(lb1, held: true, Startup);
        await AssertVipStaysAsync(lb1, lb2, TimeSpan.FromSeconds(version == 2 ? 4.5 : 1.5));

        var clock = Stopwatch.StartNew();
        master.Signal(UnixSignal.Term);
        await WaitForVipAsync(lb2, held: true, TimeSpan.FromSeconds(5));
        output.WriteLine($"{(keepalivedIsMaster ? "keepalived" : "VipProxy")} master SIGTERM -> VIP on the other after {clock.ElapsedMilliseconds} ms");
        await WaitForVipAsync(lb1, held: false, TimeSpan.FromSeconds(5));
        Assert.False(backup.HasExited);
    }

    [Fact]
    public async Task A_password_mismatch_is_ignored_by_both_sides_so_both_become_master()
    {
        using var files = new ScenarioFiles();
        await using var lan = await Lan.CreateAsync(output.WriteLine, "lb1", "lb2");
        var (lb1, lb2) = (lan.Host("lb1"), lan.Host("lb2"));
        StartKeepalived(lb1, files, Instance(lb1, 150, extra: PassAuth));
        StartVipProxy(lb2, files, Instance(lb2, 100, extra: PassAuth.Replace("secret1", "secret2", StringComparison.Ordinal)));

        // Neither accepts the other's adverts: each times out and claims the VIP (a split brain, as with two keepalived).
        await WaitForVipAsync(lb1, held: true, Startup);
        await WaitForVipAsync(lb2, held: true, Startup);
        await Task.Delay(TimeSpan.FromSeconds(2));
        Assert.True(await HoldsVipAsync(lb1));
        Assert.True(await HoldsVipAsync(lb2));
    }

    /// <summary>
    /// The address tie-break (RFC 5798 §6.4.3) decides between two masters of equal priority. (A backup accepts an
    /// equal-priority master whatever its address, on both implementations, so the test first makes both masters:
    /// with multicast blocked on the bridge each times out; unblocked, they hear each other.)
    /// </summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task An_equal_priority_tie_goes_to_the_higher_primary_address_on_both_implementations(bool keepalivedOnHigherAddress)
    {
        using var files = new ScenarioFiles();
        await using var lan = await Lan.CreateAsync(output.WriteLine, "lb1", "lb2"); // lb2 has the higher address
        var (lb1, lb2) = (lan.Host("lb1"), lan.Host("lb2"));
        var bridge = lan.Switch("lan");
        await bridge.SetMulticastBlockedAsync(true);
        if (keepalivedOnHigherAddress)
        {
            StartVipProxy(lb1, files, Instance(lb1, 100, version: 3, advertInterval: "0.2"));
            StartKeepalived(lb2, files, Instance(lb2, 100, version: 3, advertInterval: "0.2"));
        }
        else
        {
            StartKeepalived(lb1, files, Instance(lb1, 100, version: 3, advertInterval: "0.2"));
            StartVipProxy(lb2, files, Instance(lb2, 100, version: 3, advertInterval: "0.2"));
        }

        await WaitForVipAsync(lb1, held: true, Startup);
        await WaitForVipAsync(lb2, held: true, Startup);

        await bridge.SetMulticastBlockedAsync(false);
        await WaitForVipAsync(lb1, held: false, TimeSpan.FromSeconds(5));
        await AssertVipStaysAsync(lb2, lb1, TimeSpan.FromSeconds(2));
    }
}
