using System.Net;

namespace VipProxy.Vrrp.Protocol;

/// <summary>
/// One VRRP instance's election logic: RFC 5798 §6.4 (Initialize, Backup, Master) plus keepalived's Fault, with
/// keepalived's choices wherever users mix the two. It is pure: it reads the time from the
/// <see cref="TimeProvider"/> (see <see cref="VrrpTiming"/> for the deadline convention), is fed
/// <see cref="VrrpEvent"/>s and returns <see cref="VrrpAction"/>s for a driver to execute in order. It never touches
/// a socket, sleeps or starts a timer itself. Not thread-safe: feed events from one thread (or under one lock).
/// Needs no randomness: VRRP's desynchronisation comes from Skew_Time, which is deterministic.
/// </summary>
public sealed class VrrpStateMachine
{
    private readonly VrrpInstanceOptions _options;

    // Advertised and excluded: an instance with only virtual_ipaddress_excluded still adds them as master.
    private readonly IReadOnlyList<IPAddress> _heldAddresses;
    private readonly TimeProvider _timeProvider;
    private readonly TrackingTable _tracking = new();
    private readonly TimeSpan?[] _deadlines = new TimeSpan?[Enum.GetValues<VrrpTimer>().Max(t => (int)t) + 1];

    // keepalived's preempt_time: while set and in the future, a backup still accepts a lower-priority master.
    // Null means "not started": the next lower-priority advert starts it.
    private TimeSpan? _preemptAllowedAt;

    // keepalived: two address owners on one VRID is a configuration error; the one that notices lowers itself to 254.
    private bool _ownerConflictDemoted;

    // The operator's demotion (vipproxy vrrp demote): never master until resumed.
    private bool _operatorDemoted;

    /// <summary>Creates an instance in <see cref="VrrpState.Initialize"/>.</summary>
    /// <exception cref="ArgumentException">The options are invalid (see <see cref="VrrpInstanceOptions.Validate"/>).</exception>
    public VrrpStateMachine(VrrpInstanceOptions options, TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(timeProvider);
        options.EnsureValid();
        _options = options;
        _heldAddresses = options.HeldAddresses;
        _timeProvider = timeProvider;
        MasterAdvertisementInterval = options.AdvertisementInterval;
    }

    /// <summary>The instance's configuration.</summary>
    public VrrpInstanceOptions Options => _options;

    /// <summary>Current state.</summary>
    public VrrpState State { get; private set; } = VrrpState.Initialize;

    /// <summary>Statistics.</summary>
    public VrrpCounters Counters { get; } = new();

    /// <summary>Configured priority adjusted by tracking (keepalived's effective_priority); what our adverts carry.</summary>
    public byte EffectivePriority =>
        _ownerConflictDemoted ? (byte)(VrrpPacket.PriorityOwner - 1) : _tracking.EffectivePriority(_options.Priority);

    /// <summary>True while a tracked item reports a fault.</summary>
    public bool IsFaulted => _tracking.IsFaulted;

    /// <summary>True while the operator has demoted the instance (<see cref="OperatorDemoted"/>): it stays Backup.</summary>
    public bool IsDemoted => _operatorDemoted;

    /// <summary>
    /// Master_Adver_Interval (RFC 5798 §6.1): ours as master; as a v3 backup, the current master's advertised one.
    /// </summary>
    public TimeSpan MasterAdvertisementInterval { get; private set; }

    /// <summary>Skew_Time for our effective priority (RFC 5798 §6.1).</summary>
    public TimeSpan SkewTime => VrrpTiming.SkewTime(_options.Version, EffectivePriority, MasterAdvertisementInterval);

    /// <summary>Master_Down_Interval for our effective priority (RFC 5798 §6.1).</summary>
    public TimeSpan MasterDownInterval =>
        VrrpTiming.MasterDownInterval(_options.Version, EffectivePriority, MasterAdvertisementInterval);

    /// <summary>The router we believe is master: us when master, the last accepted advert's source when backup.</summary>
    public IPAddress? MasterAddress { get; private set; }

    private bool IsAddressOwner => EffectivePriority == VrrpPacket.PriorityOwner;

    /// <summary>The armed deadline of <paramref name="timer"/>, or null.</summary>
    public TimeSpan? GetTimerDeadline(VrrpTimer timer) => _deadlines[(int)timer];

    /// <summary>Processes one event and returns what the driver must do, in order.</summary>
    public IReadOnlyList<VrrpAction> Handle(VrrpEvent vrrpEvent)
    {
        ArgumentNullException.ThrowIfNull(vrrpEvent);
        var actions = new List<VrrpAction>();
        var now = VrrpTiming.Now(_timeProvider);
        switch (vrrpEvent)
        {
            case Startup:
                OnStartup(actions, now);
                break;
            case Shutdown:
                OnShutdown(actions);
                break;
            case PacketReceived packet:
                OnPacket(actions, now, packet.Verdict);
                break;
            case TimerExpired expired:
                OnTimer(actions, now, expired);
                break;
            case TrackedStateChanged tracked:
                OnTrackedStateChanged(actions, now, tracked);
                break;
            case OperatorDemoted:
                OnDemoted(actions, now);
                break;
            case OperatorResumed:
                OnResumed(actions, now);
                break;
            default:
                throw new ArgumentException("Unknown event " + vrrpEvent.GetType().Name, nameof(vrrpEvent));
        }

        return actions;
    }

    private void OnStartup(List<VrrpAction> actions, TimeSpan now)
    {
        if (State != VrrpState.Initialize)
        {
            return;
        }

        _ownerConflictDemoted = false;

        // keepalived removes a non-owner's VIPs at start, so addresses left by a killed process do not linger
        // on a node that is not master.
        if (!IsAddressOwner && _heldAddresses.Count > 0)
        {
            actions.Add(new RemoveVirtualAddresses(_heldAddresses));
        }

        // keepalived preempt_delay: "after startup ... until preemption".
        _preemptAllowedAt = _options.PreemptDelay > TimeSpan.Zero ? now + _options.PreemptDelay : null;
        Elect(actions, now);
    }

    /// <summary>
    /// RFC 5798 §6.4.1 (Initialize): the owner becomes master at once; everyone else, `state MASTER` included
    /// (keepalived), becomes backup and waits Master_Down_Interval, so a restarted node never steals the role
    /// before hearing the current master. Also used on leaving Fault, as keepalived does.
    /// </summary>
    private void Elect(List<VrrpAction> actions, TimeSpan now)
    {
        if (_tracking.IsFaulted)
        {
            EnterState(actions, VrrpState.Fault, NotifyState.Fault);
        }
        else if (IsAddressOwner && !_operatorDemoted)
        {
            BecomeMaster(actions, now);
        }
        else
        {
            EnterBackup(actions, now, _options.AdvertisementInterval);
        }
    }

    private void OnShutdown(List<VrrpAction> actions)
    {
        if (State == VrrpState.Initialize)
        {
            return;
        }

        // RFC 5798 §6.4.3 Shutdown: cancel Adver_Timer, send priority 0, go to Initialize; keepalived then removes
        // the VIPs. RFC 5798 §6.4.2: a backup just cancels its Master_Down_Timer.
        if (State == VrrpState.Master)
        {
            LeaveMaster(actions, announceStop: true);
        }

        CancelAllTimers(actions);
        MasterAddress = null;
        EnterState(actions, VrrpState.Initialize, NotifyState.Stop);
    }

    private void OnPacket(List<VrrpAction> actions, TimeSpan now, VrrpVerdict verdict)
    {
        if (!verdict.IsAccepted)
        {
            // A dropped datagram is counted and nothing else: it neither resets nor shortens the Master_Down_Timer,
            // so junk next to a live master cannot make a backup time out (nor keep a dead master "alive").
            Counters.RecordDrop(verdict.DropReason);
            return;
        }

        var advertisement = verdict.Advertisement!;
        Counters.RecordAccepted(verdict.Notes, advertisement.Packet.Priority);
        switch (State)
        {
            case VrrpState.Backup:
                OnAdvertisementAsBackup(actions, now, advertisement);
                break;
            case VrrpState.Master:
                OnAdvertisementAsMaster(actions, now, advertisement);
                break;
            default:
                // Initialize and Fault take no part in the election.
                break;
        }
    }

    /// <summary>RFC 5798 §6.4.2, "If an ADVERTISEMENT is received", with keepalived's nopreempt and preempt_delay.</summary>
    private void OnAdvertisementAsBackup(List<VrrpAction> actions, TimeSpan now, ReceivedAdvertisement advertisement)
    {
        var packet = advertisement.Packet;
        if (packet.Priority == VrrpPacket.PriorityStop)
        {
            // "Set the Master_Down_Timer to Skew_Time": the master is leaving; the highest-priority backup goes first.
            Arm(actions, VrrpTimer.MasterDown, now + SkewTime);
            return;
        }

        bool lowerPriority = packet.Priority < EffectivePriority;
        // keepalived clears nopreempt for an owner; a demoted instance never preempts (it follows any master).
        bool preempt = (_options.Preempt || IsAddressOwner) && !_operatorDemoted;
        if (preempt && lowerPriority && !PreemptDelayRunning(now))
        {
            // "Else (Preempt_Mode True and priority less than local): Discard". The timer keeps running, so this
            // backup takes over when it expires; the old master steps down on hearing our higher priority.
            Counters.RecordLowerPriorityDiscarded();
            return;
        }

        // "Set Master_Adver_Interval to Adver Interval contained in the ADVERTISEMENT" (v3; a v2 interval equals
        // ours or was dropped), "Recompute the Master_Down_Interval, Reset the Master_Down_Timer".
        if (packet.Version == VrrpVersion.V3)
        {
            MasterAdvertisementInterval = packet.AdvertisementInterval;
        }

        MasterAddress = advertisement.Source;
        if (_options.PreemptDelay > TimeSpan.Zero)
        {
            // keepalived: a master we would not preempt stops the delay; the first lower-priority master starts it.
            _preemptAllowedAt = lowerPriority ? _preemptAllowedAt ?? now + _options.PreemptDelay : null;
        }

        Arm(actions, VrrpTimer.MasterDown, now + MasterDownInterval);
    }

    private bool PreemptDelayRunning(TimeSpan now) =>
        _options.PreemptDelay > TimeSpan.Zero && (_preemptAllowedAt is not { } allowedAt || now < allowedAt);

    /// <summary>RFC 5798 §6.4.3, "If an ADVERTISEMENT is received", with keepalived's re-advertising.</summary>
    private void OnAdvertisementAsMaster(List<VrrpAction> actions, TimeSpan now, ReceivedAdvertisement advertisement)
    {
        var packet = advertisement.Packet;
        if (packet.Priority == VrrpPacket.PriorityStop)
        {
            // "Send an ADVERTISEMENT": another master is leaving; assert ourselves at once. keepalived does not
            // reset the Adver_Timer here, and neither do we (an extra advert does no harm).
            SendAdvertisement(actions, EffectivePriority);
            return;
        }

        int addressOrder = IPv4Address.Compare(advertisement.Source, _options.PrimaryAddress);
        if (addressOrder == 0)
        {
            return; // our own address; the validator drops these, but never elect against ourselves
        }

        if (packet.Priority == VrrpPacket.PriorityOwner && IsAddressOwner)
        {
            // keepalived: "CONFIGURATION ERROR: local instance and a remote instance are both configured as address
            // owner ... reducing local priority" to 254, after which the other owner's 255 wins below.
            _ownerConflictDemoted = true;
        }

        byte ours = EffectivePriority;
        if (packet.Priority > ours || (packet.Priority == ours && addressOrder > 0))
        {
            // "greater than the local Priority, or equal and the primary IPvX address of the sender is greater":
            // cancel Adver_Timer, adopt the interval, set Master_Down_Timer, transition to Backup.
            if (_options.HigherPrioritySendAdvert)
            {
                // keepalived higher_prio_send_advert: one advert at our own priority first. Two masters at once means
                // the hosts' ARP caches may last have heard us; the winner hears this lower priority and re-sends
                // its gratuitous ARPs (below), whichever of the two adverts crossed the healed link first.
                SendAdvertisement(actions, ours);
            }

            LeaveMaster(actions, announceStop: false);
            var interval = packet.Version == VrrpVersion.V3 ? packet.AdvertisementInterval : _options.AdvertisementInterval;
            _preemptAllowedAt = null;
            EnterBackup(actions, now, interval);
            MasterAddress = advertisement.Source;
            return;
        }

        // Lower priority, or equal from a lower address: another router believes it is master (a split brain that
        // just healed, or a peer that missed our adverts). RFC 5798 §6.4.3 says "Discard the ADVERTISEMENT";
        // keepalived (vrrp_state_master_rx) re-advertises at once, unless lower_prio_no_advert, so the peer steps
        // down without waiting an interval, and then, with garp_lower_prio_repeat (default garp_master_repeat),
        // re-sends gratuitous ARP: while both were master, the hosts' ARP caches may have followed the other
        // router's announcement, and nothing else would bring them back before their entries expire. A second
        // burst follows garp_lower_prio_delay later (default garp_master_delay). We follow keepalived.
        Counters.RecordLowerPriorityAnswered();
        SendAdvertisement(actions, ours);
        int repeat = _options.EffectiveGarpLowerPriorityRepeat;
        SendGratuitousArps(actions, repeat);
        if (repeat > 0 && _options.EffectiveGarpLowerPriorityDelay > TimeSpan.Zero && _heldAddresses.Count > 0)
        {
            // keepalived starts one timer thread per such advert; one re-armed deadline sends the same bursts
            // without piling up timers while a stuck peer keeps advertising.
            Arm(actions, VrrpTimer.GarpLowerPriorityDelay, now + _options.EffectiveGarpLowerPriorityDelay);
        }
    }

    private void OnTimer(List<VrrpAction> actions, TimeSpan now, TimerExpired expired)
    {
        int slot = (int)expired.Timer;
        if ((uint)slot >= (uint)_deadlines.Length || _deadlines[slot] != expired.Deadline)
        {
            return; // stale: cancelled or re-armed after this expiry was queued
        }

        _deadlines[slot] = null;
        switch (expired.Timer)
        {
            case VrrpTimer.MasterDown when State == VrrpState.Backup && _operatorDemoted:
                // Demoted: no master is heard, but the operator said this node must not take the role. It forgets the
                // master it last heard and keeps listening; resume starts the election again.
                MasterAddress = null;
                break;
            case VrrpTimer.MasterDown when State == VrrpState.Backup:
                // RFC 5798 §6.4.2 "If the Master_Down_Timer fires".
                BecomeMaster(actions, now);
                break;
            case VrrpTimer.Advertisement when State == VrrpState.Master:
                // RFC 5798 §6.4.3 "If the Adver_Timer fires": send, reset to Advertisement_Interval.
                SendAdvertisement(actions, EffectivePriority);
                Arm(actions, VrrpTimer.Advertisement, now + _options.AdvertisementInterval);
                break;
            case VrrpTimer.GarpDelay when State == VrrpState.Master:
                // keepalived garp_master_delay: one more burst, for switches and hosts that missed the first.
                SendGratuitousArps(actions, _options.GarpMasterRepeat);
                break;
            case VrrpTimer.GarpLowerPriorityDelay when State == VrrpState.Master:
                // keepalived vrrp_lower_prio_gratuitous_arp_thread: the second burst after a lower-priority advert.
                SendGratuitousArps(actions, _options.EffectiveGarpLowerPriorityRepeat);
                break;
            case VrrpTimer.GarpRefresh when State == VrrpState.Master:
                // keepalived garp_master_refresh: periodic reminder while master.
                SendGratuitousArps(actions, _options.GarpMasterRefreshRepeat);
                Arm(actions, VrrpTimer.GarpRefresh, now + _options.GarpMasterRefresh);
                break;
            default:
                break;
        }
    }

    private void OnTrackedStateChanged(List<VrrpAction> actions, TimeSpan now, TrackedStateChanged tracked)
    {
        ArgumentNullException.ThrowIfNull(tracked.Tracker);
        _tracking.Update(tracked.Tracker, tracked.Faulted, tracked.PriorityDelta);
        switch (State)
        {
            case VrrpState.Backup or VrrpState.Master when _tracking.IsFaulted:
                EnterFault(actions);
                break;
            case VrrpState.Fault when !_tracking.IsFaulted:
                // keepalived vrrp_state_leave_fault: back to the election with our own interval and no preempt delay
                // running (its preempt_time = 0); an owner goes straight to master.
                _preemptAllowedAt = null;
                Elect(actions, now);
                break;
            default:
                // A priority change alone needs no action: a master's next advert carries it, and a backup's new
                // Skew_Time applies from the next reset of its timer. A backup whose priority rose above the master's
                // preempts when it discards the master's next advert and its timer runs out.
                break;
        }
    }

    /// <summary>
    /// Operator demote: a master leaves the role as on shutdown (RFC 5798 §6.4.3: cancel the Adver_Timer, send
    /// priority 0, which makes the backup's Master_Down_Timer Skew_Time, §6.6) but goes to Backup rather than
    /// Initialize, so it keeps following the new master. A backup or a faulted instance just stays out of the role.
    /// </summary>
    private void OnDemoted(List<VrrpAction> actions, TimeSpan now)
    {
        if (_operatorDemoted)
        {
            return;
        }

        _operatorDemoted = true;
        if (State == VrrpState.Master)
        {
            LeaveMaster(actions, announceStop: true);
            _preemptAllowedAt = null;
            EnterBackup(actions, now, _options.AdvertisementInterval);
        }
    }

    /// <summary>Operator resume: a backup restarts its Master_Down_Timer, so it becomes master if no master is
    /// heard, or preempts a lower-priority one (when its configuration preempts) on the next advert it discards.
    /// An address owner takes the role at once, as at startup.</summary>
    private void OnResumed(List<VrrpAction> actions, TimeSpan now)
    {
        if (!_operatorDemoted)
        {
            return;
        }

        _operatorDemoted = false;
        if (State != VrrpState.Backup)
        {
            return; // Initialize and Fault elect when they leave; a master cannot be demoted.
        }

        if (IsAddressOwner)
        {
            BecomeMaster(actions, now);
        }
        else
        {
            Arm(actions, VrrpTimer.MasterDown, now + MasterDownInterval);
        }
    }

    /// <summary>keepalived FAULT: a master announces priority 0 before dropping the VIPs, so a backup takes over after Skew_Time.</summary>
    private void EnterFault(List<VrrpAction> actions)
    {
        if (State == VrrpState.Master)
        {
            LeaveMaster(actions, announceStop: true);
        }

        CancelAllTimers(actions);
        MasterAddress = null;
        EnterState(actions, VrrpState.Fault, NotifyState.Fault);
    }

    private void EnterBackup(List<VrrpAction> actions, TimeSpan now, TimeSpan masterAdvertisementInterval)
    {
        // RFC 5798 §6.4.1: "Set Master_Adver_Interval ..., Set the Master_Down_Timer to Master_Down_Interval".
        MasterAdvertisementInterval = masterAdvertisementInterval;
        MasterAddress = null;
        Arm(actions, VrrpTimer.MasterDown, now + MasterDownInterval);
        EnterState(actions, VrrpState.Backup, NotifyState.Backup);
    }

    /// <summary>
    /// RFC 5798 §6.4.1/§6.4.2 "transition to Master": send an ADVERTISEMENT, then add the addresses and broadcast
    /// gratuitous ARP (as the brief and keepalived order them: the advert first silences other would-be masters),
    /// then set the Adver_Timer.
    /// </summary>
    private void BecomeMaster(List<VrrpAction> actions, TimeSpan now)
    {
        Cancel(actions, VrrpTimer.MasterDown);
        MasterAdvertisementInterval = _options.AdvertisementInterval;
        MasterAddress = _options.PrimaryAddress;
        SendAdvertisement(actions, EffectivePriority);
        if (_heldAddresses.Count > 0)
        {
            actions.Add(new AddVirtualAddresses(_heldAddresses));
            SendGratuitousArps(actions, _options.GarpMasterRepeat);
            if (_options.GarpMasterDelay > TimeSpan.Zero && _options.GarpMasterRepeat > 0)
            {
                Arm(actions, VrrpTimer.GarpDelay, now + _options.GarpMasterDelay);
            }

            if (_options.GarpMasterRefresh > TimeSpan.Zero && _options.GarpMasterRefreshRepeat > 0)
            {
                Arm(actions, VrrpTimer.GarpRefresh, now + _options.GarpMasterRefresh);
            }
        }

        Arm(actions, VrrpTimer.Advertisement, now + _options.AdvertisementInterval);
        EnterState(actions, VrrpState.Master, NotifyState.Master);
    }

    private void LeaveMaster(List<VrrpAction> actions, bool announceStop)
    {
        Cancel(actions, VrrpTimer.Advertisement);
        Cancel(actions, VrrpTimer.GarpDelay);
        Cancel(actions, VrrpTimer.GarpRefresh);
        Cancel(actions, VrrpTimer.GarpLowerPriorityDelay);
        if (announceStop)
        {
            // RFC 5798 §6.4.3: priority 0 first, while we still hold the addresses, so the backup's Skew_Time
            // countdown and our removal overlap.
            SendAdvertisement(actions, VrrpPacket.PriorityStop);
        }

        if (_heldAddresses.Count > 0)
        {
            actions.Add(new RemoveVirtualAddresses(_heldAddresses));
        }
    }

    private void EnterState(List<VrrpAction> actions, VrrpState state, NotifyState notify)
    {
        var from = State;
        State = state;
        Counters.RecordTransition(from, state);
        actions.Add(new RunNotify(notify, EffectivePriority));
    }

    private void SendAdvertisement(List<VrrpAction> actions, byte priority)
    {
        Counters.RecordSent(priority);
        actions.Add(new SendAdvertisement(priority));
    }

    private void SendGratuitousArps(List<VrrpAction> actions, int repeat)
    {
        if (repeat > 0 && _heldAddresses.Count > 0)
        {
            actions.Add(new SendGratuitousArps(_heldAddresses, repeat, _options.GarpInterval));
        }
    }

    private void Arm(List<VrrpAction> actions, VrrpTimer timer, TimeSpan deadline)
    {
        _deadlines[(int)timer] = deadline;
        actions.Add(new ArmTimer(timer, deadline));
    }

    private void Cancel(List<VrrpAction> actions, VrrpTimer timer)
    {
        if (_deadlines[(int)timer] is not null)
        {
            _deadlines[(int)timer] = null;
            actions.Add(new CancelTimer(timer));
        }
    }

    private void CancelAllTimers(List<VrrpAction> actions)
    {
        for (int i = 0; i < _deadlines.Length; i++)
        {
            Cancel(actions, (VrrpTimer)i);
        }
    }
}
