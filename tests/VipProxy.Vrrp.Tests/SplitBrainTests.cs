using VipProxy.Vrrp.Protocol;
using VipProxy.Vrrp.Tests.Support;
using static VipProxy.Vrrp.Tests.Support.TestAddresses;

namespace VipProxy.Vrrp.Tests;

/// <summary>
/// Two masters at once and the heal, on the fake clock. The VRRP traffic between the two routers is lost while their
/// interfaces stay up (a firewall dropping protocol 112, a switch that stops flooding 224.0.0.18), so both become
/// master and both announce the VIP; when adverts flow again, exactly one master must remain, and it must re-send
/// gratuitous ARP, because the hosts' ARP caches may last have heard the loser. keepalived does that with
/// <c>garp_lower_prio_repeat</c> (a master that hears a lower priority re-advertises and re-sends gratuitous ARP) and
/// <c>higher_prio_send_advert</c> (a master that hears a higher priority advertises once before stepping down, so that
/// the winner always hears a lower priority).
/// </summary>
public sealed class SplitBrainTests
{
    private static readonly TimeSpan AdvertInterval = TimeSpan.FromSeconds(1);

    private readonly SimulatedLan _lan = new();

    /// <summary>
    /// lb1 (priority 100, .12) and lb2 (priority 90, .11); partitioned at 10 s, healed at 20 s + phase. The phases
    /// cover both orders in which the first adverts cross the healed link: lb1 advertises at x.609375 s, lb2 (master
    /// since 13.2578125 s) at x.2578125 s.
    /// </summary>
    [Theory]
    [InlineData(0.0)]
    [InlineData(0.125)]
    [InlineData(0.25)]
    [InlineData(0.3)]
    [InlineData(0.5)]
    [InlineData(0.6)]
    [InlineData(0.75)]
    [InlineData(0.875)]
    public void After_the_heal_one_master_remains_within_one_advert_interval_and_it_re_sends_gratuitous_arp_last(double phase)
    {
        var (lb1, lb2) = StartPair(Options(NodeB, priority: 100), Options(NodeA, priority: 90));
        var healAt = Partition(lb2, lb1, TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(20 + phase));

        _lan.RunUntil(healAt + AdvertInterval);

        Assert.Equal(VrrpState.Master, lb1.State);
        Assert.True(lb1.HoldsAddresses);
        Assert.Equal(VrrpState.Backup, lb2.State);
        Assert.False(lb2.HoldsAddresses);
        var lb2SteppedDown = lb2.TimesOf<RunNotify>(n => n.State == NotifyState.Backup).Last();
        Assert.InRange(lb2SteppedDown, healAt, healAt + AdvertInterval);

        // The winner's gratuitous ARP comes after the heal and after every one the loser sent: the hosts end on lb1.
        var lb1Garps = lb1.TimesOf<SendGratuitousArps>().Where(t => t >= healAt).ToList();
        Assert.NotEmpty(lb1Garps);
        Assert.True(lb1Garps[0] >= lb2.TimesOf<SendGratuitousArps>().Max(), "lb2's gratuitous ARP came after lb1's");
        Assert.Equal(new SendGratuitousArps([Vip], 5, TimeSpan.Zero), lb1.Actions<SendGratuitousArps>().Last(), new ActionComparer());

        // One answer when lb1's advert crossed first (lb2's parting advert), two when lb2's did (its regular advert,
        // then its parting one); each answer is a burst, and the second burst follows the last answer by
        // garp_lower_prio_delay (default garp_master_delay, 5 s). Nothing more from lb2.
        long answers = lb1.Machine.Counters.LowerPriorityAnswered;
        Assert.InRange(answers, 1, 2);
        Assert.Equal(answers, lb1Garps.Count);
        _lan.RunUntil(healAt + TimeSpan.FromSeconds(7));
        Assert.Equal(answers + 1, lb1.TimesOf<SendGratuitousArps>().Count(t => t >= healAt));
        Assert.Equal(lb1Garps[^1] + TimeSpan.FromSeconds(5), lb1.TimesOf<SendGratuitousArps>().Last());
        Assert.Equal(VrrpState.Backup, lb2.State);
        Assert.Equal(1, lb2.Machine.Counters.BecameMaster);
    }

    /// <summary>
    /// keepalived's default (higher_prio_send_advert off): when lb1's advert crosses first, lb2 steps down in
    /// silence, lb1 never hears a lower priority and never re-announces, so the last gratuitous ARP the hosts heard
    /// is lb2's. This is why VipProxy turns the option on by default.
    /// </summary>
    [Fact]
    public void Without_higher_prio_send_advert_a_heal_where_the_winner_speaks_first_leaves_the_losers_arp_last()
    {
        var (lb1, lb2) = StartPair(
            Options(NodeB, priority: 100) with { HigherPrioritySendAdvert = false },
            Options(NodeA, priority: 90) with { HigherPrioritySendAdvert = false });
        var healAt = Partition(lb2, lb1, TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(20.3)); // lb1 speaks at 20.609375

        _lan.RunUntil(healAt + TimeSpan.FromSeconds(7));

        Assert.Equal(VrrpState.Master, lb1.State);
        Assert.Equal(VrrpState.Backup, lb2.State);
        Assert.DoesNotContain(lb1.TimesOf<SendGratuitousArps>(), t => t >= healAt);
        Assert.True(lb2.TimesOf<SendGratuitousArps>().Max() > lb1.TimesOf<SendGratuitousArps>().Max());
        Assert.Equal(0, lb1.Machine.Counters.LowerPriorityAnswered);
    }

    [Fact]
    public void A_master_that_hears_a_higher_priority_advertises_its_own_priority_once_before_stepping_down()
    {
        var node = StartAsMaster(Options(NodeB, priority: 90));
        int sentBefore = node.Actions<SendAdvertisement>().Count();

        var actions = node.Receive(AdvertFrom(Options(NodeA, priority: 100), 100));

        Assert.Equal(new SendAdvertisement(90), actions[0]);
        Assert.IsType<CancelTimer>(actions[1]);
        Assert.Equal(sentBefore + 1, node.Actions<SendAdvertisement>().Count());
        Assert.Equal(VrrpState.Backup, node.State);
        Assert.False(node.HoldsAddresses);
    }

    [Fact]
    public void With_higher_prio_send_advert_off_the_master_steps_down_in_silence()
    {
        var node = StartAsMaster(Options(NodeB, priority: 90) with { HigherPrioritySendAdvert = false });

        var actions = node.Receive(AdvertFrom(Options(NodeA, priority: 100), 100));

        Assert.DoesNotContain(actions, a => a is SendAdvertisement);
        Assert.Equal(VrrpState.Backup, node.State);
    }

    [Fact]
    public void Garp_lower_prio_repeat_and_delay_shape_the_two_bursts()
    {
        var node = StartAsMaster(Options(NodeB, priority: 100) with { GarpLowerPriorityRepeat = 2, GarpLowerPriorityDelay = TimeSpan.FromSeconds(3) });
        var heardAt = _lan.Elapsed;

        var actions = node.Receive(AdvertFrom(Options(NodeA, priority: 90), 90));

        Assert.Equal(
            [
                new SendAdvertisement(100),
                new SendGratuitousArps([Vip], 2, TimeSpan.Zero),
                new ArmTimer(VrrpTimer.GarpLowerPriorityDelay, _lan.Now + TimeSpan.FromSeconds(3)),
            ],
            actions, new ActionComparer());
        _lan.RunFor(TimeSpan.FromSeconds(3));
        Assert.Equal(
            [new SendGratuitousArps([Vip], 2, TimeSpan.Zero)],
            node.Log.Where(e => e.At == heardAt + TimeSpan.FromSeconds(3) && e.Action is SendGratuitousArps).Select(e => e.Action).ToList(),
            new ActionComparer());
    }

    [Fact]
    public void The_lower_priority_bursts_default_to_garp_master_repeat_and_garp_master_delay()
    {
        var options = Options(NodeB, priority: 100) with { GarpMasterRepeat = 3, GarpMasterDelay = TimeSpan.FromSeconds(2) };
        Assert.Equal(3, options.EffectiveGarpLowerPriorityRepeat);
        Assert.Equal(TimeSpan.FromSeconds(2), options.EffectiveGarpLowerPriorityDelay);
        var node = StartAsMaster(options);

        var actions = node.Receive(AdvertFrom(Options(NodeA, priority: 90), 90));

        Assert.Contains(new SendGratuitousArps([Vip], 3, TimeSpan.Zero), actions, new ActionComparer());
        Assert.Contains(new ArmTimer(VrrpTimer.GarpLowerPriorityDelay, _lan.Now + TimeSpan.FromSeconds(2)), actions);
    }

    [Fact]
    public void Garp_lower_prio_repeat_0_re_advertises_without_gratuitous_arp()
    {
        var node = StartAsMaster(Options(NodeB, priority: 100) with { GarpLowerPriorityRepeat = 0 });

        var actions = node.Receive(AdvertFrom(Options(NodeA, priority: 90), 90));

        Assert.Equal([new SendAdvertisement(100)], actions);
    }

    [Fact]
    public void A_master_that_steps_down_before_the_second_burst_cancels_it()
    {
        var node = StartAsMaster(Options(NodeB, priority: 100) with { GarpLowerPriorityDelay = TimeSpan.FromSeconds(2) });
        node.Receive(AdvertFrom(Options(NodeA, priority: 90), 90));
        int garps = node.Actions<SendGratuitousArps>().Count();

        var actions = node.Receive(AdvertFrom(Options(NodeC, priority: 110), 110));
        _lan.RunFor(TimeSpan.FromSeconds(3)); // past the cancelled burst, before Master_Down_Interval (3.6 s)

        Assert.Contains(new CancelTimer(VrrpTimer.GarpLowerPriorityDelay), actions);
        Assert.Equal(garps, node.Actions<SendGratuitousArps>().Count());
        Assert.Equal(VrrpState.Backup, node.State);
    }

    [Fact]
    public void A_peer_stuck_as_master_re_arms_one_second_burst_instead_of_piling_up_timers()
    {
        var node = StartAsMaster(Options(NodeB, priority: 100) with { GarpLowerPriorityRepeat = 1, GarpLowerPriorityDelay = TimeSpan.FromSeconds(5) });
        var start = _lan.Elapsed;
        var datagram = AdvertFrom(Options(NodeA, priority: 90), 90);

        // A one-way partition: the peer hears nothing and keeps advertising every second for 3 s.
        _lan.Every(AdvertInterval, start, start + TimeSpan.FromSeconds(3), () => node.Receive(datagram));
        _lan.RunFor(TimeSpan.FromSeconds(10));

        // Repeat 1 tells these bursts from becoming master's (garp_master_repeat 5, at start and start + 5 s).
        var garps = node.TimesOf<SendGratuitousArps>(g => g.Repeat == 1).ToList();
        Assert.Equal([start, start + TimeSpan.FromSeconds(1), start + TimeSpan.FromSeconds(2), start + TimeSpan.FromSeconds(7)], garps);
        Assert.Equal(3, node.Machine.Counters.LowerPriorityAnswered);
        Assert.Equal(VrrpState.Master, node.State);
    }

    [Fact]
    public void Negative_lower_priority_settings_are_refused()
    {
        Assert.NotEmpty((Options(NodeB) with { GarpLowerPriorityRepeat = -1 }).Validate());
        Assert.NotEmpty((Options(NodeB) with { GarpLowerPriorityDelay = TimeSpan.FromSeconds(-1) }).Validate());
        Assert.Empty(Options(NodeB).Validate());
    }

    private (SimulatedNode Winner, SimulatedNode Loser) StartPair(VrrpInstanceOptions winner, VrrpInstanceOptions loser)
    {
        var a = _lan.AddNode(winner);
        var b = _lan.AddNode(loser);
        a.Handle(new Startup());
        b.Handle(new Startup());
        _lan.RunUntil(TimeSpan.FromSeconds(5));
        Assert.Equal(VrrpState.Master, a.State);
        Assert.Equal(VrrpState.Backup, b.State);
        return (a, b);
    }

    /// <summary>
    /// Loses every advert between the two (the loser's side is enough with two routers: nothing in, nothing out,
    /// but no tracking event: its interface stays up) from <paramref name="from"/> to <paramref name="healAt"/>, and
    /// checks that both were master before the heal. Returns the heal time.
    /// </summary>
    private TimeSpan Partition(SimulatedNode loser, SimulatedNode winner, TimeSpan from, TimeSpan healAt)
    {
        _lan.RunUntil(from);
        loser.LinkUp = false;
        _lan.RunUntil(healAt);
        Assert.Equal(VrrpState.Master, winner.State);
        Assert.Equal(VrrpState.Master, loser.State);
        Assert.True(winner.HoldsAddresses && loser.HoldsAddresses);
        loser.LinkUp = true;
        return healAt;
    }

    private SimulatedNode StartAsMaster(VrrpInstanceOptions options)
    {
        var node = _lan.AddNode(options);
        node.Handle(new Startup());
        _lan.RunFor(node.Machine.MasterDownInterval);
        Assert.Equal(VrrpState.Master, node.State);
        return node;
    }
}
