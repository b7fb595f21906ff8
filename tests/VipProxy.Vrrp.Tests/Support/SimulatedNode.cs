using VipProxy.Vrrp.Protocol;

namespace VipProxy.Vrrp.Tests.Support;

/// <summary>One router on a <see cref="SimulatedLan"/>: a state machine plus the bookkeeping a real driver would do.</summary>
internal sealed class SimulatedNode
{
    private readonly SimulatedLan _lan;
    private readonly Dictionary<VrrpTimer, TimeSpan> _timers = [];

    public SimulatedNode(SimulatedLan lan, VrrpInstanceOptions options)
    {
        _lan = lan;
        Options = options;
        Machine = new VrrpStateMachine(options, lan.Time);
    }

    public VrrpInstanceOptions Options { get; }

    public VrrpStateMachine Machine { get; }

    /// <summary>Every action executed, with its time as an offset from the LAN origin.</summary>
    public List<(TimeSpan At, VrrpAction Action)> Log { get; } = [];

    /// <summary>False simulates a cut cable: nothing in, nothing out.</summary>
    public bool LinkUp { get; set; } = true;

    /// <summary>Whether the VIPs are currently configured on this node.</summary>
    public bool HoldsAddresses { get; private set; }

    public VrrpState State => Machine.State;

    public IReadOnlyList<VrrpAction> Handle(VrrpEvent vrrpEvent)
    {
        var actions = Machine.Handle(vrrpEvent);
        foreach (var action in actions)
        {
            Execute(action);
        }

        return actions;
    }

    /// <summary>Feeds raw received bytes through the codec, as the raw-socket reader will.</summary>
    public IReadOnlyList<VrrpAction> Receive(byte[] datagram) =>
        LinkUp ? Handle(new PacketReceived(VrrpCodec.Parse(datagram, Options))) : [];

    public IEnumerable<TimeSpan> TimesOf<T>(Func<T, bool>? predicate = null)
        where T : VrrpAction =>
        Log.Where(e => e.Action is T t && (predicate?.Invoke(t) ?? true)).Select(e => e.At);

    public IEnumerable<T> Actions<T>()
        where T : VrrpAction => Log.Select(e => e.Action).OfType<T>();

    /// <summary>When the node last notified <paramref name="state"/>, or null.</summary>
    public TimeSpan? LastNotified(NotifyState state) =>
        TimesOf<RunNotify>(n => n.State == state).Cast<TimeSpan?>().LastOrDefault();

    private void Execute(VrrpAction action)
    {
        Log.Add((_lan.Elapsed, action));
        switch (action)
        {
            case SendAdvertisement send:
                _lan.Transmit(this, send.Priority);
                break;
            case AddVirtualAddresses:
                HoldsAddresses = true;
                break;
            case RemoveVirtualAddresses:
                HoldsAddresses = false;
                break;
            case ArmTimer arm:
                _timers[arm.Timer] = arm.Deadline;
                _lan.Schedule(arm.Deadline, () => Fire(arm.Timer, arm.Deadline));
                break;
            case CancelTimer cancel:
                _timers.Remove(cancel.Timer);
                break;
            default:
                break;
        }
    }

    private void Fire(VrrpTimer timer, TimeSpan deadline)
    {
        // A real driver disposes cancelled timers; here a superseded entry simply finds its deadline gone.
        if (_timers.TryGetValue(timer, out var armed) && armed == deadline)
        {
            _timers.Remove(timer);
            Handle(new TimerExpired(timer, deadline));
        }
    }
}
