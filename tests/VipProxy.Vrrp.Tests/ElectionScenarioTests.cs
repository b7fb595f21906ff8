using VipProxy.Vrrp.Protocol;
using VipProxy.Vrrp.Tests.Support;
using static VipProxy.Vrrp.Tests.Support.TestAddresses;

namespace VipProxy.Vrrp.Tests;

/// <summary>
/// Several instances on one simulated link, talking through the real codec: the fake-clock version of the issue's
/// namespace scenarios (election, link cut, preempt / nopreempt, SIGTERM handover, ties, unicast, tracking).
/// </summary>
public sealed class ElectionScenarioTests
{
    private static readonly TimeSpan MasterDown90 = TimeSpan.FromSeconds(3.6484375);
    private static readonly TimeSpan MasterDown100 = TimeSpan.FromSeconds(3.609375);
    private static readonly TimeSpan Skew90 = TimeSpan.FromSeconds(0.6484375);
    private static readonly TimeSpan Slack = TimeSpan.FromSeconds(0.5);

    private readonly SimulatedLan _lan = new();

    [Fact]
    public void Two_nodes_elect_the_higher_priority_and_only_it_holds_the_vip()
    {
        var (a, b) = StartPair();

        _lan.RunUntil(TimeSpan.FromSeconds(60));

        Assert.Equal(MasterDown100, a.LastNotified(NotifyState.Master));
        Assert.Null(b.LastNotified(NotifyState.Master));
        AssertSoleMaster(a, a, b);
        Assert.Equal(NodeA, b.Machine.MasterAddress);
    }

    [Fact]
    public void Cutting_the_masters_link_moves_the_vip_and_restoring_it_preempts_back()
    {
        var (a, b) = StartPair();
        var cut = TimeSpan.FromSeconds(30.3);
        _lan.At(cut, () => CutLink(a));
        _lan.At(TimeSpan.FromSeconds(60), () => RestoreLink(a));

        _lan.RunUntil(TimeSpan.FromSeconds(59));

        // Last advert that reached B: 29.609375 s (A has advertised every second since 3.609375 s).
        var takeover = b.LastNotified(NotifyState.Master)!.Value;
        Assert.Equal(TimeSpan.FromSeconds(29.609375) + MasterDown90, takeover);
        Assert.True(takeover - cut <= MasterDown90 + Slack);
        AssertSoleMaster(b, a, b);
        Assert.Equal(VrrpState.Fault, a.State);

        _lan.RunUntil(TimeSpan.FromSeconds(90));

        // A comes back as backup, discards B's lower adverts, and takes over after its own Master_Down_Interval.
        Assert.Equal(TimeSpan.FromSeconds(60) + MasterDown100, a.LastNotified(NotifyState.Master));
        AssertSoleMaster(a, a, b);
    }

    [Fact]
    public void With_nopreempt_the_restored_node_stays_backup()
    {
        var a = _lan.AddNode(Options(NodeA, priority: 100) with { Preempt = false });
        var b = _lan.AddNode(Options(NodeB, priority: 90) with { Preempt = false });
        a.Handle(new Startup());
        b.Handle(new Startup());
        _lan.At(TimeSpan.FromSeconds(30.3), () => CutLink(a));
        _lan.At(TimeSpan.FromSeconds(60), () => RestoreLink(a));

        _lan.RunUntil(TimeSpan.FromSeconds(120));

        AssertSoleMaster(b, a, b);
        Assert.Equal(VrrpState.Backup, a.State);
        Assert.Equal(NodeB, a.Machine.MasterAddress);
    }

    [Fact]
    public void Sigterm_on_the_master_hands_over_after_skew_time()
    {
        var (a, b) = StartPair();
        var stop = TimeSpan.FromSeconds(30.3);
        _lan.At(stop, () => a.Handle(new Shutdown()));

        _lan.RunUntil(TimeSpan.FromSeconds(60));

        Assert.Equal(stop + Skew90, b.LastNotified(NotifyState.Master));
        Assert.True(Skew90 + Slack > b.LastNotified(NotifyState.Master) - stop);
        AssertSoleMaster(b, a, b);
        Assert.Equal(VrrpState.Initialize, a.State);
    }

    [Fact]
    public void Equal_priorities_starting_together_resolve_to_the_higher_address()
    {
        var a = _lan.AddNode(Options(NodeA, priority: 100));
        var b = _lan.AddNode(Options(NodeB, priority: 100));
        a.Handle(new Startup());
        b.Handle(new Startup());

        _lan.RunUntil(TimeSpan.FromSeconds(30));

        // Both time out at the same instant and become master; A (.11) hears B (.12) at equal priority and steps down.
        AssertSoleMaster(b, a, b);
        Assert.Equal(1, a.Machine.Counters.BecameMaster);
        Assert.Equal(1, a.Machine.Counters.ReleasedMaster);
    }

    [Fact]
    public void Equal_priority_backup_does_not_unseat_a_running_master()
    {
        // RFC 5798 §6.4.2: a backup accepts adverts of equal priority; the address tie-break applies between masters.
        var a = _lan.AddNode(Options(NodeA, priority: 100));
        var b = _lan.AddNode(Options(NodeB, priority: 100));
        a.Handle(new Startup());
        _lan.At(TimeSpan.FromSeconds(1), () => b.Handle(new Startup()));

        _lan.RunUntil(TimeSpan.FromSeconds(60));

        AssertSoleMaster(a, a, b);
    }

    [Fact]
    public void Three_nodes_fail_over_to_the_next_highest_priority()
    {
        var a = _lan.AddNode(Options(NodeA, priority: 100));
        var b = _lan.AddNode(Options(NodeB, priority: 90));
        var c = _lan.AddNode(Options(NodeC, priority: 80));
        foreach (var node in new[] { a, b, c })
        {
            node.Handle(new Startup());
        }

        var stop = TimeSpan.FromSeconds(30.3);
        _lan.At(stop, () => a.Handle(new Shutdown()));
        _lan.RunUntil(TimeSpan.FromSeconds(60));

        // Skew_Time 0.6484375 s (90) beats 0.6875 s (80); B's first advert then resets C.
        Assert.Equal(stop + Skew90, b.LastNotified(NotifyState.Master));
        Assert.Null(c.LastNotified(NotifyState.Master));
        AssertSoleMaster(b, a, b, c);
    }

    [Fact]
    public void A_password_mismatch_is_ignored_by_both_sides()
    {
        var a = _lan.AddNode(Options(NodeA, priority: 100));
        var b = _lan.AddNode(Options(NodeB, priority: 90) with { AuthPassword = "2222" });
        a.Handle(new Startup());
        b.Handle(new Startup());

        _lan.RunUntil(TimeSpan.FromSeconds(30));

        Assert.Equal(VrrpState.Master, a.State);
        Assert.Equal(VrrpState.Master, b.State);
        Assert.True(a.Machine.Counters.GetDropped(DropReason.AuthPasswordMismatch) > 0);
        Assert.True(b.Machine.Counters.GetDropped(DropReason.AuthPasswordMismatch) > 0);
    }

    [Fact]
    public void Unicast_peers_elect_hand_over_and_ignore_strangers()
    {
        var a = _lan.AddNode(Options(NodeA, priority: 100) with { UnicastPeers = [NodeB] });
        var b = _lan.AddNode(Options(NodeB, priority: 90) with { UnicastPeers = [NodeA] });
        var stranger = _lan.AddNode(Options(NodeC, priority: 254)); // multicast, same VRID and password
        foreach (var node in new[] { a, b, stranger })
        {
            node.Handle(new Startup());
        }

        var stop = TimeSpan.FromSeconds(30.3);
        _lan.At(stop, () => a.Handle(new Shutdown()));
        _lan.RunUntil(TimeSpan.FromSeconds(29));

        Assert.Equal(VrrpState.Master, a.State);
        Assert.Equal(VrrpState.Backup, b.State);
        Assert.True(a.Machine.Counters.GetDropped(DropReason.SourceNotUnicastPeer) > 0);

        _lan.RunUntil(TimeSpan.FromSeconds(60));
        Assert.Equal(stop + Skew90, b.LastNotified(NotifyState.Master));
    }

    [Fact]
    public void A_failing_weighted_check_moves_the_vip_to_the_backup()
    {
        var (a, b) = StartPair();
        _lan.At(TimeSpan.FromSeconds(20.2), () => a.Handle(new TrackedStateChanged("chk_mycat", false, -20)));

        _lan.RunUntil(TimeSpan.FromSeconds(60));

        // B's last accepted advert from A at 100 was at 19.609375 s; A's later adverts carry 80 < 90.
        Assert.Equal(TimeSpan.FromSeconds(19.609375) + MasterDown90, b.LastNotified(NotifyState.Master));
        AssertSoleMaster(b, a, b);
        Assert.Equal(80, a.Machine.EffectivePriority);
    }

    [Fact]
    public void A_zero_weight_check_failure_hands_over_after_skew_time()
    {
        var (a, b) = StartPair();
        var failure = TimeSpan.FromSeconds(20.2);
        _lan.At(failure, () => a.Handle(new TrackedStateChanged("chk_mycat", Faulted: true, 0)));

        _lan.RunUntil(TimeSpan.FromSeconds(60));

        // Fault while master sends priority 0 (the link is up), so B needs only Skew_Time.
        Assert.Equal(failure + Skew90, b.LastNotified(NotifyState.Master));
        AssertSoleMaster(b, a, b);
        Assert.Equal(VrrpState.Fault, a.State);
    }

    [Fact]
    public void V3_fast_adverts_fail_over_in_about_a_third_of_a_second()
    {
        var fast = TimeSpan.FromMilliseconds(100);
        var a = _lan.AddNode(Options(NodeA, priority: 100, version: VrrpVersion.V3) with { AdvertisementInterval = fast });
        var b = _lan.AddNode(Options(NodeB, priority: 90, version: VrrpVersion.V3) with { AdvertisementInterval = fast });
        a.Handle(new Startup());
        b.Handle(new Startup());
        var cut = TimeSpan.FromSeconds(10.05);
        _lan.At(cut, () => CutLink(a));

        _lan.RunUntil(TimeSpan.FromSeconds(20));

        var masterDown = VrrpTiming.MasterDownInterval(VrrpVersion.V3, 90, fast); // 0.3648437 s
        var takeover = b.LastNotified(NotifyState.Master)!.Value - cut;
        Assert.InRange(takeover, masterDown - fast, masterDown);
        AssertSoleMaster(b, a, b);
    }

    [Fact]
    public void V3_sigterm_hands_over_after_the_interval_scaled_skew()
    {
        var fast = TimeSpan.FromMilliseconds(100);
        var a = _lan.AddNode(Options(NodeA, priority: 100, version: VrrpVersion.V3) with { AdvertisementInterval = fast });
        var b = _lan.AddNode(Options(NodeB, priority: 90, version: VrrpVersion.V3) with { AdvertisementInterval = fast });
        a.Handle(new Startup());
        b.Handle(new Startup());
        var stop = TimeSpan.FromSeconds(10.05);
        _lan.At(stop, () => a.Handle(new Shutdown()));

        _lan.RunUntil(TimeSpan.FromSeconds(20));

        Assert.Equal(stop + TimeSpan.FromTicks(648_437), b.LastNotified(NotifyState.Master));
    }

    private (SimulatedNode A, SimulatedNode B) StartPair()
    {
        var a = _lan.AddNode(Options(NodeA, priority: 100));
        var b = _lan.AddNode(Options(NodeB, priority: 90));
        a.Handle(new Startup());
        b.Handle(new Startup());
        return (a, b);
    }

    /// <summary>A pulled cable: the driver's link watcher reports the tracked interface down, and nothing gets through.</summary>
    private static void CutLink(SimulatedNode node)
    {
        node.LinkUp = false;
        node.Handle(new TrackedStateChanged("eth0", Faulted: true, 0));
    }

    private static void RestoreLink(SimulatedNode node)
    {
        node.LinkUp = true;
        node.Handle(new TrackedStateChanged("eth0", Faulted: false, 0));
    }

    private static void AssertSoleMaster(SimulatedNode expected, params SimulatedNode[] all)
    {
        foreach (var node in all)
        {
            bool isExpected = ReferenceEquals(node, expected);
            if (isExpected)
            {
                Assert.Equal(VrrpState.Master, node.State);
            }
            else
            {
                Assert.NotEqual(VrrpState.Master, node.State);
            }

            Assert.Equal(isExpected, node.HoldsAddresses);
        }
    }
}
