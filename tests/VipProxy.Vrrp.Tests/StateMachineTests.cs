using System.Net;
using VipProxy.Vrrp.Protocol;
using VipProxy.Vrrp.Tests.Support;
using static VipProxy.Vrrp.Tests.Support.TestAddresses;

namespace VipProxy.Vrrp.Tests;

/// <summary>
/// One instance on a fake clock, fed adverts from scripted remote routers. Every transition of RFC 5798 §6.4 and
/// keepalived's additions, with exact timing.
/// </summary>
public sealed class StateMachineTests
{
    private static readonly TimeSpan MasterDown90 = TimeSpan.FromSeconds(3.6484375);  // v2, priority 90
    private static readonly TimeSpan MasterDown100 = TimeSpan.FromSeconds(3.609375);  // v2, priority 100
    private static readonly TimeSpan Skew90 = TimeSpan.FromSeconds(0.6484375);

    private readonly SimulatedLan _lan = new();

    [Fact]
    public void Startup_enters_backup_clears_stale_vips_and_arms_master_down()
    {
        var node = _lan.AddNode(Options(NodeB, priority: 90));

        var actions = node.Handle(new Startup());

        Assert.Equal(
            [
                new RemoveVirtualAddresses(node.Options.VirtualAddresses),
                new ArmTimer(VrrpTimer.MasterDown, _lan.Origin + MasterDown90),
                new RunNotify(NotifyState.Backup, 90),
            ],
            actions,
            new ActionComparer());
        Assert.Equal(VrrpState.Backup, node.State);
        Assert.Equal(MasterDown90, node.Machine.MasterDownInterval);
    }

    [Fact]
    public void Backup_without_a_master_takes_over_after_exactly_master_down_interval()
    {
        var node = Start(Options(NodeB, priority: 90));

        _lan.RunUntil(MasterDown90 - TimeSpan.FromTicks(1));
        Assert.Equal(VrrpState.Backup, node.State);
        _lan.RunUntil(MasterDown90);

        Assert.Equal(VrrpState.Master, node.State);
        Assert.Equal(
            [
                new SendAdvertisement(90),
                new AddVirtualAddresses([Vip]),
                new SendGratuitousArps([Vip], 5, TimeSpan.Zero),
                new ArmTimer(VrrpTimer.GarpDelay, _lan.Origin + MasterDown90 + TimeSpan.FromSeconds(5)),
                new ArmTimer(VrrpTimer.Advertisement, _lan.Origin + MasterDown90 + TimeSpan.FromSeconds(1)),
                new RunNotify(NotifyState.Master, 90),
            ],
            ActionsAt(node, MasterDown90), new ActionComparer());
        Assert.True(node.HoldsAddresses);
        Assert.Equal(1, node.Machine.Counters.BecameMaster);
        Assert.Equal(NodeB, node.Machine.MasterAddress);
    }

    [Fact]
    public void An_instance_with_only_excluded_addresses_clears_them_at_start_adds_them_as_master_and_removes_them_at_stop()
    {
        var excluded = IPAddress.Parse("198.18.1.100");
        var node = _lan.AddNode(Options(NodeB, priority: 90) with { VirtualAddresses = [], ExcludedAddresses = [excluded] });

        Assert.Contains(new RemoveVirtualAddresses([excluded]), node.Handle(new Startup()), new ActionComparer());
        _lan.RunUntil(MasterDown90);

        var becameMaster = ActionsAt(node, MasterDown90);
        Assert.Contains(new AddVirtualAddresses([excluded]), becameMaster, new ActionComparer());
        Assert.Contains(new SendGratuitousArps([excluded], 5, TimeSpan.Zero), becameMaster, new ActionComparer());
        Assert.Contains(new RemoveVirtualAddresses([excluded]), node.Handle(new Shutdown()), new ActionComparer());
    }

    [Fact]
    public void Address_actions_carry_the_advertised_then_the_excluded_addresses_while_the_advert_carries_only_the_advertised()
    {
        var excluded = IPAddress.Parse("198.18.1.100");
        var node = Start(Options(NodeB, priority: 90) with { ExcludedAddresses = [excluded, Vip] });
        _lan.RunUntil(MasterDown90);

        var becameMaster = ActionsAt(node, MasterDown90);
        Assert.Contains(new AddVirtualAddresses([Vip, excluded]), becameMaster, new ActionComparer());
        Assert.Contains(new SendGratuitousArps([Vip, excluded], 5, TimeSpan.Zero), becameMaster, new ActionComparer());
        Assert.Equal<IPAddress>([Vip], VrrpPacket.ForInstance(node.Options, 90).Addresses);
    }

    [Fact]
    public void Address_owner_becomes_master_at_startup_without_waiting()
    {
        var node = _lan.AddNode(Options(NodeB, priority: 255));

        var actions = node.Handle(new Startup());

        Assert.Equal(VrrpState.Master, node.State);
        Assert.IsType<SendAdvertisement>(actions[0]);
        Assert.Equal(255, ((SendAdvertisement)actions[0]).Priority);
        Assert.IsType<AddVirtualAddresses>(actions[1]);
        Assert.IsType<SendGratuitousArps>(actions[2]);
        Assert.DoesNotContain(actions, a => a is RemoveVirtualAddresses);
    }

    [Fact]
    public void Master_advertises_every_interval_at_its_effective_priority()
    {
        var node = Start(Options(NodeB, priority: 255));

        _lan.RunUntil(TimeSpan.FromSeconds(10));

        var sends = node.TimesOf<SendAdvertisement>().ToList();
        Assert.Equal(Enumerable.Range(0, 11).Select(s => TimeSpan.FromSeconds(s)), sends);
        Assert.All(node.Actions<SendAdvertisement>(), s => Assert.Equal(255, s.Priority));
        Assert.Equal(11, node.Machine.Counters.AdvertisementsSent);
    }

    [Fact]
    public void Backup_hearing_a_live_master_stays_backup_and_resets_its_timer_on_each_advert()
    {
        var node = Start(Options(NodeB, priority: 90));
        var master = Options(NodeA, priority: 100);
        AdvertsFrom(node, master, 100, from: 0.5, until: 60);

        _lan.RunUntil(TimeSpan.FromSeconds(60));

        Assert.Equal(VrrpState.Backup, node.State);
        Assert.Empty(node.TimesOf<RunNotify>(n => n.State == NotifyState.Master));
        Assert.Equal(_lan.Origin + TimeSpan.FromSeconds(59.5) + MasterDown90, node.Machine.GetTimerDeadline(VrrpTimer.MasterDown));
        Assert.Equal(NodeA, node.Machine.MasterAddress);
        Assert.Equal(60, node.Machine.Counters.AdvertisementsReceived);

        // Silence: takeover exactly Master_Down_Interval after the last advert.
        _lan.RunUntil(TimeSpan.FromSeconds(70));
        Assert.Equal(TimeSpan.FromSeconds(59.5) + MasterDown90, node.LastNotified(NotifyState.Master));
    }

    [Fact]
    public void Priority_zero_from_the_master_makes_the_backup_take_over_after_skew_time()
    {
        var node = Start(Options(NodeB, priority: 90));
        var master = Options(NodeA, priority: 100);
        AdvertsFrom(node, master, 100, from: 0.5, until: 10);
        _lan.At(TimeSpan.FromSeconds(10.25), () => node.Receive(AdvertFrom(master, 0)));

        _lan.RunUntil(TimeSpan.FromSeconds(20));

        Assert.Equal(TimeSpan.FromSeconds(10.25) + Skew90, node.LastNotified(NotifyState.Master));
        Assert.Equal(1, node.Machine.Counters.PriorityZeroReceived);
    }

    [Fact]
    public void Master_receiving_priority_zero_advertises_at_once()
    {
        var node = StartAsMaster(Options(NodeB, priority: 100));

        var actions = node.Receive(AdvertFrom(Options(NodeA, priority: 90), 0));

        Assert.Equal([new SendAdvertisement(100)], actions);
        Assert.Equal(VrrpState.Master, node.State);
    }

    [Fact]
    public void Master_hearing_a_higher_priority_steps_down_without_sending_priority_zero()
    {
        var node = StartAsMaster(Options(NodeB, priority: 100));

        var actions = node.Receive(AdvertFrom(Options(NodeA, priority: 110), 110));

        Assert.Equal(VrrpState.Backup, node.State);
        Assert.Equal(
            [
                new SendAdvertisement(100), // higher_prio_send_advert (VipProxy's default): see SplitBrainTests
                new CancelTimer(VrrpTimer.Advertisement),
                new CancelTimer(VrrpTimer.GarpDelay),
                new RemoveVirtualAddresses([Vip]),
                new ArmTimer(VrrpTimer.MasterDown, _lan.Now + MasterDown100),
                new RunNotify(NotifyState.Backup, 100),
            ],
            actions, new ActionComparer());
        Assert.False(node.HoldsAddresses);
        Assert.Equal(NodeA, node.Machine.MasterAddress);
        Assert.Equal(1, node.Machine.Counters.ReleasedMaster);
        Assert.Equal(0, node.Machine.Counters.PriorityZeroSent);
    }

    [Fact]
    public void Master_hearing_a_lower_priority_readvertises_at_once_and_stays_master()
    {
        var node = StartAsMaster(Options(NodeB, priority: 100));

        var actions = node.Receive(AdvertFrom(Options(NodeA, priority: 90), 90));

        Assert.Equal(
            [
                new SendAdvertisement(100),
                new SendGratuitousArps([Vip], 5, TimeSpan.Zero),
                new ArmTimer(VrrpTimer.GarpLowerPriorityDelay, _lan.Now + TimeSpan.FromSeconds(5)),
            ],
            actions, new ActionComparer());
        Assert.Equal(VrrpState.Master, node.State);
    }

    [Fact]
    public void Equal_priority_from_a_higher_address_makes_the_master_step_down()
    {
        var node = StartAsMaster(Options(NodeB, priority: 100));

        node.Receive(AdvertFrom(Options(NodeC, priority: 100), 100)); // .13 > .12

        Assert.Equal(VrrpState.Backup, node.State);
    }

    [Fact]
    public void Equal_priority_from_a_lower_address_is_answered_and_the_master_stays()
    {
        var node = StartAsMaster(Options(NodeB, priority: 100));

        var actions = node.Receive(AdvertFrom(Options(NodeA, priority: 100), 100)); // .11 < .12

        Assert.Equal(
            [
                new SendAdvertisement(100),
                new SendGratuitousArps([Vip], 5, TimeSpan.Zero),
                new ArmTimer(VrrpTimer.GarpLowerPriorityDelay, _lan.Now + TimeSpan.FromSeconds(5)),
            ],
            actions, new ActionComparer());
        Assert.Equal(VrrpState.Master, node.State);
    }

    [Fact]
    public void Address_comparison_is_numeric_not_textual()
    {
        // "192.168.56.9" sorts after "192.168.56.12" as text, but is the lower address.
        var node = StartAsMaster(Options(NodeB, priority: 100));
        node.Receive(AdvertFrom(Options(IPAddress.Parse("192.168.56.9"), priority: 100), 100));
        Assert.Equal(VrrpState.Master, node.State);
    }

    [Fact]
    public void Preempting_backup_ignores_lower_priority_adverts_and_takes_over_when_its_timer_expires()
    {
        var node = Start(Options(NodeB, priority: 100));
        AdvertsFrom(node, Options(NodeA, priority: 50), 50, from: 0.1, until: 30);

        _lan.RunUntil(TimeSpan.FromSeconds(30));

        Assert.Equal(MasterDown100, node.LastNotified(NotifyState.Master));
        Assert.Equal(VrrpState.Master, node.State);
        Assert.Equal(4, node.Machine.Counters.LowerPriorityDiscarded); // 0.1, 1.1, 2.1, 3.1
    }

    [Fact]
    public void Nopreempt_backup_accepts_a_lower_priority_master()
    {
        var node = Start(Options(NodeB, priority: 100) with { Preempt = false });
        AdvertsFrom(node, Options(NodeA, priority: 50), 50, from: 0.1, until: 60);

        _lan.RunUntil(TimeSpan.FromSeconds(60));

        Assert.Equal(VrrpState.Backup, node.State);
        Assert.Equal(0, node.Machine.Counters.LowerPriorityDiscarded);
        Assert.Equal(NodeA, node.Machine.MasterAddress);
    }

    [Fact]
    public void Owner_ignores_nopreempt()
    {
        // keepalived: "nopreempt is incompatible with priority 255 - resetting nopreempt".
        var node = StartAsMaster(Options(NodeB, priority: 255) with { Preempt = false });
        node.Receive(AdvertFrom(Options(NodeA, priority: 100), 100));
        Assert.Equal(VrrpState.Master, node.State);
    }

    [Fact]
    public void Preempt_delay_holds_back_preemption_for_that_long_after_startup()
    {
        var node = Start(Options(NodeB, priority: 100) with { PreemptDelay = TimeSpan.FromSeconds(10) });
        AdvertsFrom(node, Options(NodeA, priority: 50), 50, from: 0.5, until: 60);

        _lan.RunUntil(TimeSpan.FromSeconds(60));

        // Adverts up to 9.5 s are accepted (delay running); from 10.5 s they are discarded, so the timer armed at
        // 9.5 s runs out.
        Assert.Equal(TimeSpan.FromSeconds(9.5) + MasterDown100, node.LastNotified(NotifyState.Master));
    }

    [Fact]
    public void Preempt_delay_restarts_when_a_lower_priority_master_appears_later()
    {
        var node = Start(Options(NodeB, priority: 100) with { PreemptDelay = TimeSpan.FromSeconds(5) });
        AdvertsFrom(node, Options(NodeC, priority: 200), 200, from: 0.5, until: 21);
        AdvertsFrom(node, Options(NodeA, priority: 50), 50, from: 21.5, until: 60);

        _lan.RunUntil(TimeSpan.FromSeconds(60));

        // The higher master cleared the startup delay; the first lower advert (21.5 s) starts 5 s more; the last
        // accepted one is 25.5 s.
        Assert.Equal(TimeSpan.FromSeconds(25.5) + MasterDown100, node.LastNotified(NotifyState.Master));
    }

    [Fact]
    public void Master_entering_fault_sends_priority_zero_then_removes_vips_and_leaving_fault_starts_over_as_backup()
    {
        var node = StartAsMaster(Options(NodeB, priority: 100));
        var becameMaster = _lan.Elapsed;

        var enter = node.Handle(new TrackedStateChanged("eth0", Faulted: true, PriorityDelta: 0));

        Assert.Equal(
            [
                new CancelTimer(VrrpTimer.Advertisement),
                new CancelTimer(VrrpTimer.GarpDelay),
                new SendAdvertisement(0),
                new RemoveVirtualAddresses([Vip]),
                new RunNotify(NotifyState.Fault, 100),
            ],
            enter, new ActionComparer());
        Assert.Equal(VrrpState.Fault, node.State);
        Assert.Equal(1, node.Machine.Counters.PriorityZeroSent);
        Assert.All(Enum.GetValues<VrrpTimer>(), t => Assert.Null(node.Machine.GetTimerDeadline(t)));

        // In Fault, adverts are counted but change nothing.
        Assert.Empty(node.Receive(AdvertFrom(Options(NodeA, priority: 50), 50)));
        Assert.Empty(node.Receive(AdvertFrom(Options(NodeA, priority: 50), 0)));

        _lan.RunFor(TimeSpan.FromSeconds(10));
        var leaveAt = _lan.Elapsed;
        var leave = node.Handle(new TrackedStateChanged("eth0", Faulted: false, PriorityDelta: 0));

        Assert.Equal(
            [new ArmTimer(VrrpTimer.MasterDown, _lan.Now + MasterDown100), new RunNotify(NotifyState.Backup, 100)],
            leave);
        _lan.RunFor(TimeSpan.FromSeconds(10));
        Assert.Equal(leaveAt + MasterDown100, node.LastNotified(NotifyState.Master));
        Assert.True(becameMaster < leaveAt);
    }

    [Fact]
    public void Backup_entering_fault_cancels_its_timer_quietly()
    {
        var node = Start(Options(NodeB, priority: 90));

        var actions = node.Handle(new TrackedStateChanged("chk_mycat", Faulted: true, PriorityDelta: 0));

        Assert.Equal([new CancelTimer(VrrpTimer.MasterDown), new RunNotify(NotifyState.Fault, 90)], actions);
        _lan.RunUntil(TimeSpan.FromSeconds(60));
        Assert.Equal(VrrpState.Fault, node.State);
    }

    [Fact]
    public void Fault_needs_every_tracker_healthy_before_leaving()
    {
        var node = Start(Options(NodeB, priority: 90));
        node.Handle(new TrackedStateChanged("eth0", true, 0));
        node.Handle(new TrackedStateChanged("chk", true, 0));

        node.Handle(new TrackedStateChanged("eth0", false, 0));
        Assert.Equal(VrrpState.Fault, node.State);

        node.Handle(new TrackedStateChanged("chk", false, 0));
        Assert.Equal(VrrpState.Backup, node.State);
    }

    [Fact]
    public void A_fault_reported_before_startup_starts_the_instance_in_fault()
    {
        var node = _lan.AddNode(Options(NodeB, priority: 255));
        Assert.Empty(node.Handle(new TrackedStateChanged("eth0", true, 0)));

        var actions = node.Handle(new Startup());

        Assert.Equal([new RunNotify(NotifyState.Fault, 255)], actions);
        Assert.Equal(VrrpState.Fault, node.State);

        // An owner leaving Fault goes straight to master (RFC 5798 §6.4.1).
        node.Handle(new TrackedStateChanged("eth0", false, 0));
        Assert.Equal(VrrpState.Master, node.State);
    }

    [Theory]
    [InlineData(100, new[] { -20 }, 80)]
    [InlineData(100, new[] { -20, -30 }, 50)]
    [InlineData(100, new[] { 10, -5 }, 105)]
    [InlineData(100, new[] { -500 }, 1)]
    [InlineData(100, new[] { 500 }, 254)]
    [InlineData(254, new[] { 1 }, 254)]
    [InlineData(255, new[] { -50 }, 255)]
    public void Effective_priority_is_configured_plus_weights_clamped_like_keepalived(byte configured, int[] deltas, byte expected)
    {
        var node = _lan.AddNode(Options(NodeB, priority: configured));
        for (int i = 0; i < deltas.Length; i++)
        {
            node.Handle(new TrackedStateChanged($"t{i}", false, deltas[i]));
        }

        Assert.Equal(expected, node.Machine.EffectivePriority);
    }

    [Fact]
    public void A_trackers_new_report_replaces_its_old_one()
    {
        var node = _lan.AddNode(Options(NodeB, priority: 100));
        node.Handle(new TrackedStateChanged("chk", false, -20));
        node.Handle(new TrackedStateChanged("chk", false, -20));
        Assert.Equal(80, node.Machine.EffectivePriority);
        node.Handle(new TrackedStateChanged("chk", false, 0));
        Assert.Equal(100, node.Machine.EffectivePriority);
    }

    [Fact]
    public void Adverts_and_skew_follow_the_effective_priority()
    {
        var master = StartAsMaster(Options(NodeB, priority: 100));
        master.Handle(new TrackedStateChanged("chk", false, -20));
        _lan.RunFor(TimeSpan.FromSeconds(1));
        Assert.Equal(80, master.Actions<SendAdvertisement>().Last().Priority);

        var backup = _lan.AddNode(Options(NodeC, priority: 100));
        backup.Handle(new TrackedStateChanged("chk", false, -10));
        backup.Handle(new Startup());
        Assert.Equal(VrrpTiming.MasterDownInterval(VrrpVersion.V2, 90, TimeSpan.FromSeconds(1)), backup.Machine.MasterDownInterval);
    }

    [Fact]
    public void Backup_whose_priority_rises_above_the_master_preempts_it()
    {
        var node = Start(Options(NodeB, priority: 90));
        AdvertsFrom(node, Options(NodeA, priority: 100), 100, from: 0.5, until: 60);
        _lan.At(TimeSpan.FromSeconds(20.2), () => node.Handle(new TrackedStateChanged("bonus", false, 20)));

        _lan.RunUntil(TimeSpan.FromSeconds(60));

        // The last accepted advert (19.5 s) armed the timer with the old Skew_Time; from 20.5 s the master's 100 is
        // below our 110, so its adverts are discarded and that timer runs out.
        Assert.Equal(TimeSpan.FromSeconds(19.5) + MasterDown90, node.LastNotified(NotifyState.Master));
        Assert.Equal(1, node.Machine.Counters.BecameMaster);
        Assert.Equal(VrrpState.Master, node.State);
    }

    [Fact]
    public void V3_backup_adopts_the_masters_advertised_interval()
    {
        var node = Start(Options(NodeB, priority: 90, version: VrrpVersion.V3));
        var master = Options(NodeA, priority: 100, version: VrrpVersion.V3) with { AdvertisementInterval = TimeSpan.FromMilliseconds(500) };
        AdvertsFrom(node, master, 100, from: 0.5, until: 10, every: 0.5);

        _lan.RunUntil(TimeSpan.FromSeconds(9.75));

        Assert.Equal(TimeSpan.FromMilliseconds(500), node.Machine.MasterAdvertisementInterval);
        var adopted = TimeSpan.FromSeconds(1.5) + TimeSpan.FromTicks(166 * 5_000_000L / 256); // 1.82421875 s
        Assert.Equal(adopted, node.Machine.MasterDownInterval);
        Assert.True(node.Machine.Counters.IntervalMismatchAccepted > 0);

        _lan.RunUntil(TimeSpan.FromSeconds(20));
        Assert.Equal(TimeSpan.FromSeconds(9.5) + adopted, node.LastNotified(NotifyState.Master));

        // As master it advertises at its own configured interval again.
        Assert.Equal(TimeSpan.FromSeconds(1), node.Machine.MasterAdvertisementInterval);
        var sends = node.TimesOf<SendAdvertisement>().ToList();
        Assert.Equal(TimeSpan.FromSeconds(1), sends[1] - sends[0]);
    }

    [Fact]
    public void V3_master_stepping_down_adopts_the_winners_interval()
    {
        var node = StartAsMaster(Options(NodeB, priority: 100, version: VrrpVersion.V3));
        var winner = Options(NodeC, priority: 200, version: VrrpVersion.V3) with { AdvertisementInterval = TimeSpan.FromMilliseconds(200) };

        node.Receive(AdvertFrom(winner, 200));

        Assert.Equal(VrrpState.Backup, node.State);
        Assert.Equal(TimeSpan.FromMilliseconds(200), node.Machine.MasterAdvertisementInterval);
        Assert.Equal(_lan.Now + node.Machine.MasterDownInterval, node.Machine.GetTimerDeadline(VrrpTimer.MasterDown));
    }

    [Fact]
    public void Shutdown_as_master_sends_priority_zero_before_removing_the_vips()
    {
        var node = StartAsMaster(Options(NodeB, priority: 100));

        var actions = node.Handle(new Shutdown());

        Assert.Equal(
            [
                new CancelTimer(VrrpTimer.Advertisement),
                new CancelTimer(VrrpTimer.GarpDelay),
                new SendAdvertisement(0),
                new RemoveVirtualAddresses([Vip]),
                new RunNotify(NotifyState.Stop, 100),
            ],
            actions, new ActionComparer());
        Assert.Equal(VrrpState.Initialize, node.State);
        Assert.Equal(1, node.Machine.Counters.PriorityZeroSent);
    }

    [Fact]
    public void Shutdown_as_backup_just_stops()
    {
        var node = Start(Options(NodeB, priority: 90));
        Assert.Equal([new CancelTimer(VrrpTimer.MasterDown), new RunNotify(NotifyState.Stop, 90)], node.Handle(new Shutdown()));
        Assert.Empty(node.Handle(new Shutdown()));
        _lan.RunUntil(TimeSpan.FromSeconds(30));
        Assert.Equal(VrrpState.Initialize, node.State);
    }

    [Fact]
    public void Restart_after_shutdown_runs_a_fresh_election()
    {
        var node = StartAsMaster(Options(NodeB, priority: 100));
        node.Handle(new Shutdown());
        Assert.Empty(node.Receive(AdvertFrom(Options(NodeA), 100)));

        node.Handle(new Startup());

        Assert.Equal(VrrpState.Backup, node.State);
        Assert.Empty(node.Handle(new Startup())); // already running
    }

    [Fact]
    public void Gratuitous_arps_follow_garp_master_delay_repeat_and_refresh()
    {
        var options = Options(NodeB, priority: 255) with
        {
            GarpMasterRepeat = 3,
            GarpMasterDelay = TimeSpan.FromSeconds(5),
            GarpMasterRefresh = TimeSpan.FromSeconds(20),
            GarpMasterRefreshRepeat = 2,
            GarpInterval = TimeSpan.FromMilliseconds(1),
        };
        var node = Start(options);
        _lan.RunUntil(TimeSpan.FromSeconds(61));

        var garps = node.Log.Where(e => e.Action is SendGratuitousArps).Select(e => (e.At, ((SendGratuitousArps)e.Action).Repeat)).ToList();
        Assert.Equal(
            [(TimeSpan.Zero, 3), (TimeSpan.FromSeconds(5), 3), (TimeSpan.FromSeconds(20), 2), (TimeSpan.FromSeconds(40), 2), (TimeSpan.FromSeconds(60), 2)],
            garps);
        Assert.All(node.Actions<SendGratuitousArps>(), g => Assert.Equal(TimeSpan.FromMilliseconds(1), g.Interval));

        // Leaving master (to a live, higher master) stops the refresh.
        AdvertsFrom(node, Options(NodeC, priority: 255), 255, from: 61, until: 120);
        _lan.RunUntil(TimeSpan.FromSeconds(120));
        Assert.Equal(VrrpState.Backup, node.State);
        Assert.Equal(5, node.Actions<SendGratuitousArps>().Count());
    }

    [Fact]
    public void No_second_burst_when_garp_master_delay_is_zero()
    {
        var node = Start(Options(NodeB, priority: 255) with { GarpMasterDelay = TimeSpan.Zero });
        _lan.RunUntil(TimeSpan.FromSeconds(30));
        Assert.Single(node.Actions<SendGratuitousArps>());
    }

    [Fact]
    public void Second_burst_is_cancelled_if_mastership_ends_first()
    {
        var node = StartAsMaster(Options(NodeB, priority: 100));
        var steppedDown = _lan.Elapsed + TimeSpan.FromSeconds(1);
        AdvertsFrom(node, Options(NodeC, priority: 200), 200, from: steppedDown.TotalSeconds, until: 30);
        _lan.RunUntil(TimeSpan.FromSeconds(30));
        Assert.Equal(VrrpState.Backup, node.State);
        Assert.Single(node.Actions<SendGratuitousArps>());
    }

    [Fact]
    public void Without_vips_there_is_nothing_to_add_remove_or_announce()
    {
        var node = Start(Options(NodeB, priority: 255) with { VirtualAddresses = [] });
        Assert.Equal(VrrpState.Master, node.State);
        Assert.Empty(node.Actions<AddVirtualAddresses>());
        Assert.Empty(node.Actions<SendGratuitousArps>());
        Assert.Null(node.Machine.GetTimerDeadline(VrrpTimer.GarpDelay));
    }

    [Fact]
    public void A_stale_timer_expiry_is_ignored()
    {
        var node = Start(Options(NodeB, priority: 90));
        var firstDeadline = node.Machine.GetTimerDeadline(VrrpTimer.MasterDown)!.Value;
        _lan.RunFor(TimeSpan.FromSeconds(1));
        node.Receive(AdvertFrom(Options(NodeA, priority: 100), 100)); // re-arms

        Assert.Empty(node.Machine.Handle(new TimerExpired(VrrpTimer.MasterDown, firstDeadline)));
        Assert.Empty(node.Machine.Handle(new TimerExpired(VrrpTimer.Advertisement, firstDeadline)));
        Assert.Equal(VrrpState.Backup, node.State);
    }

    [Fact]
    public void Dropped_packets_touch_no_timer_and_only_bump_their_counter()
    {
        var node = Start(Options(NodeB, priority: 90));
        var deadline = node.Machine.GetTimerDeadline(VrrpTimer.MasterDown);

        foreach (var reason in Enum.GetValues<DropReason>().Where(r => r != DropReason.None))
        {
            Assert.Empty(node.Handle(new PacketReceived(VrrpVerdict.Drop(reason))));
            Assert.Equal(1, node.Machine.Counters.GetDropped(reason));
        }

        Assert.Equal(deadline, node.Machine.GetTimerDeadline(VrrpTimer.MasterDown));
        Assert.Equal(Enum.GetValues<DropReason>().Length - 1, node.Machine.Counters.TotalDropped);
    }

    [Fact]
    public void Two_address_owners_resolve_like_keepalived_by_demoting_the_local_one()
    {
        var node = StartAsMaster(Options(NodeB, priority: 255));

        node.Receive(AdvertFrom(Options(NodeA, priority: 255), 255));

        Assert.Equal(254, node.Machine.EffectivePriority);
        Assert.Equal(VrrpState.Backup, node.State);
    }

    [Fact]
    public void Counters_track_transitions()
    {
        var node = StartAsMaster(Options(NodeB, priority: 100));
        node.Receive(AdvertFrom(Options(NodeC, priority: 200), 200));
        node.Handle(new Shutdown());

        var counters = node.Machine.Counters;
        Assert.Equal(4, counters.Transitions); // Init→Backup→Master→Backup→Init
        Assert.Equal(1, counters.BecameMaster);
        Assert.Equal(1, counters.ReleasedMaster);
        Assert.Equal(1, counters.AdvertisementsReceived);
    }

    private SimulatedNode Start(VrrpInstanceOptions options)
    {
        var node = _lan.AddNode(options);
        node.Handle(new Startup());
        return node;
    }

    /// <summary>Starts a node and lets its Master_Down_Timer run out on an otherwise silent link.</summary>
    private SimulatedNode StartAsMaster(VrrpInstanceOptions options)
    {
        var node = Start(options);
        _lan.RunFor(node.Machine.MasterDownInterval);
        Assert.Equal(VrrpState.Master, node.State);
        return node;
    }

    private void AdvertsFrom(SimulatedNode node, VrrpInstanceOptions sender, byte priority, double from, double until, double every = 1)
    {
        var datagram = AdvertFrom(sender, priority);
        _lan.Every(TimeSpan.FromSeconds(every), TimeSpan.FromSeconds(from), TimeSpan.FromSeconds(until), () => node.Receive(datagram));
    }

    private static List<VrrpAction> ActionsAt(SimulatedNode node, TimeSpan at) =>
        node.Log.Where(e => e.At == at).Select(e => e.Action).ToList();
}
