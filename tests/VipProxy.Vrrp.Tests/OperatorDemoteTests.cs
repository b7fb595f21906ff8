using VipProxy.Vrrp.Protocol;
using VipProxy.Vrrp.Tests.Support;
using static VipProxy.Vrrp.Tests.Support.TestAddresses;

namespace VipProxy.Vrrp.Tests;

/// <summary>
/// <c>vipproxy vrrp demote|resume</c> as events into the pure state machine, on a simulated link with the real codec:
/// the master leaves with priority 0 (RFC 5798 §6.4.3), the peer takes over after Skew_Time (§6.6), the demoted node
/// stays backup whatever it hears, and resume lets it preempt back.
/// </summary>
public sealed class OperatorDemoteTests
{
    private static readonly TimeSpan Skew90 = TimeSpan.FromSeconds(0.6484375);
    private static readonly TimeSpan MasterDown100 = TimeSpan.FromSeconds(3.609375);

    private readonly SimulatedLan _lan = new();

    [Fact]
    public void Demote_hands_the_master_role_over_after_skew_time_and_resume_preempts_back()
    {
        var a = _lan.AddNode(Options(NodeA, priority: 100));
        var b = _lan.AddNode(Options(NodeB, priority: 90));
        a.Handle(new Startup());
        b.Handle(new Startup());
        var demote = TimeSpan.FromSeconds(30.3);
        var resume = TimeSpan.FromSeconds(90);
        _lan.At(demote, () => a.Handle(new OperatorDemoted()));
        _lan.At(resume, () => a.Handle(new OperatorResumed()));

        _lan.RunUntil(TimeSpan.FromSeconds(89));

        // A sent priority 0 at once, so B took over Skew_Time later, and A stayed backup for a minute though its
        // priority is higher: it follows B rather than discarding its adverts.
        Assert.Contains(a.Actions<SendAdvertisement>(), advert => advert.Priority == VrrpPacket.PriorityStop);
        Assert.Equal(demote + Skew90, b.LastNotified(NotifyState.Master));
        Assert.Equal(VrrpState.Master, b.State);
        Assert.Equal(VrrpState.Backup, a.State);
        Assert.True(a.Machine.IsDemoted);
        Assert.False(a.HoldsAddresses);
        Assert.Equal(NodeB, a.Machine.MasterAddress);

        _lan.RunUntil(TimeSpan.FromSeconds(120));

        // Resumed: A discards B's lower adverts (preempt) and takes over when its fresh Master_Down_Timer runs out.
        Assert.False(a.Machine.IsDemoted);
        Assert.Equal(resume + MasterDown100, a.LastNotified(NotifyState.Master));
        Assert.Equal(VrrpState.Master, a.State);
        Assert.Equal(VrrpState.Backup, b.State);
        Assert.True(a.HoldsAddresses);
        Assert.False(b.HoldsAddresses);
    }

    [Fact]
    public void A_demoted_node_alone_never_takes_the_role_and_resume_lets_it()
    {
        var a = _lan.AddNode(Options(NodeA, priority: 100));
        a.Handle(new OperatorDemoted());
        a.Handle(new Startup());

        _lan.RunUntil(TimeSpan.FromSeconds(30));

        Assert.Equal(VrrpState.Backup, a.State);
        Assert.Null(a.LastNotified(NotifyState.Master));
        Assert.Null(a.Machine.MasterAddress);

        _lan.At(TimeSpan.FromSeconds(40), () => a.Handle(new OperatorResumed()));
        _lan.RunUntil(TimeSpan.FromSeconds(50));
        Assert.Equal(TimeSpan.FromSeconds(40) + MasterDown100, a.LastNotified(NotifyState.Master));
    }

    [Fact]
    public void A_demoted_address_owner_starts_as_backup()
    {
        var a = _lan.AddNode(Options(NodeA, priority: 255));
        a.Handle(new OperatorDemoted());
        a.Handle(new Startup());
        _lan.RunUntil(TimeSpan.FromSeconds(10));
        Assert.Equal(VrrpState.Backup, a.State);

        a.Handle(new OperatorResumed());
        Assert.Equal(VrrpState.Master, a.State);
    }

    [Fact]
    public void Demote_and_resume_are_idempotent_and_a_resume_without_demote_does_nothing()
    {
        var a = _lan.AddNode(Options(NodeA, priority: 100));
        a.Handle(new Startup());
        _lan.RunUntil(TimeSpan.FromSeconds(10));
        Assert.Equal(VrrpState.Master, a.State);

        Assert.Empty(a.Handle(new OperatorResumed()));
        Assert.NotEmpty(a.Handle(new OperatorDemoted()));
        Assert.Empty(a.Handle(new OperatorDemoted()));
        Assert.Equal(VrrpState.Backup, a.State);
        Assert.Equal(1, a.Actions<SendAdvertisement>().Count(advert => advert.Priority == VrrpPacket.PriorityStop));
    }

    [Fact]
    public void A_demoted_instance_that_faults_and_recovers_stays_backup()
    {
        var a = _lan.AddNode(Options(NodeA, priority: 100));
        a.Handle(new Startup());
        a.Handle(new OperatorDemoted());
        a.Handle(new TrackedStateChanged("eth0", Faulted: true, 0));
        Assert.Equal(VrrpState.Fault, a.State);
        a.Handle(new TrackedStateChanged("eth0", Faulted: false, 0));
        _lan.RunUntil(TimeSpan.FromSeconds(30));
        Assert.Equal(VrrpState.Backup, a.State);
        Assert.Null(a.LastNotified(NotifyState.Master));
    }
}
