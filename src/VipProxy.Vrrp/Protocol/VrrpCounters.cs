namespace VipProxy.Vrrp.Protocol;

/// <summary>
/// Per-instance statistics (keepalived's <c>vrrp_stats</c> and RFC 6527-style counters). Written by the state
/// machine's single thread, readable from any thread.
/// </summary>
public sealed class VrrpCounters
{
    private static readonly int DropReasonSlots = Enum.GetValues<DropReason>().Max(r => (int)r) + 1;

    private readonly long[] _dropped = new long[DropReasonSlots];
    private long _advertisementsReceived;
    private long _advertisementsSent;
    private long _priorityZeroReceived;
    private long _priorityZeroSent;
    private long _transitions;
    private long _becameMaster;
    private long _releasedMaster;
    private long _lowerPriorityDiscarded;
    private long _lowerPriorityAnswered;
    private long _intervalMismatchAccepted;
    private long _addressMismatchAccepted;

    /// <summary>Adverts that passed every check (any state, any priority).</summary>
    public long AdvertisementsReceived => Interlocked.Read(ref _advertisementsReceived);

    /// <summary>Adverts the machine asked the driver to send (priority 0 included).</summary>
    public long AdvertisementsSent => Interlocked.Read(ref _advertisementsSent);

    /// <summary>Accepted adverts with priority 0.</summary>
    public long PriorityZeroReceived => Interlocked.Read(ref _priorityZeroReceived);

    /// <summary>Priority-0 adverts sent (shutdown or Fault while master).</summary>
    public long PriorityZeroSent => Interlocked.Read(ref _priorityZeroSent);

    /// <summary>State changes of any kind.</summary>
    public long Transitions => Interlocked.Read(ref _transitions);

    /// <summary>Times this instance became master.</summary>
    public long BecameMaster => Interlocked.Read(ref _becameMaster);

    /// <summary>Times this instance left master.</summary>
    public long ReleasedMaster => Interlocked.Read(ref _releasedMaster);

    /// <summary>Accepted adverts a preempting backup ignored because their priority was lower (RFC 5798 §6.4.2).</summary>
    public long LowerPriorityDiscarded => Interlocked.Read(ref _lowerPriorityDiscarded);

    /// <summary>
    /// Adverts with a lower priority (or equal from a lower address) heard while master: another router also believed
    /// it was master. Each was answered with an advert and gratuitous ARP (keepalived's garp_lower_prio_repeat).
    /// </summary>
    public long LowerPriorityAnswered => Interlocked.Read(ref _lowerPriorityAnswered);

    /// <summary>Accepted v3 adverts whose interval differed from ours (logged, adopted).</summary>
    public long IntervalMismatchAccepted => Interlocked.Read(ref _intervalMismatchAccepted);

    /// <summary>Accepted adverts whose address list differed from ours (logged only).</summary>
    public long AddressMismatchAccepted => Interlocked.Read(ref _addressMismatchAccepted);

    /// <summary>Datagrams dropped for all reasons, including other VRIDs' adverts.</summary>
    public long TotalDropped
    {
        get
        {
            long total = 0;
            for (int i = 0; i < _dropped.Length; i++)
            {
                total += Interlocked.Read(ref _dropped[i]);
            }

            return total;
        }
    }

    /// <summary>Datagrams dropped for <paramref name="reason"/>.</summary>
    public long GetDropped(DropReason reason) =>
        (uint)reason < (uint)_dropped.Length ? Interlocked.Read(ref _dropped[(int)reason]) : 0;

    internal void RecordDrop(DropReason reason)
    {
        if ((uint)reason < (uint)_dropped.Length)
        {
            Interlocked.Increment(ref _dropped[(int)reason]);
        }
    }

    internal void RecordAccepted(AdvertisementNotes notes, byte priority)
    {
        Interlocked.Increment(ref _advertisementsReceived);
        if (priority == VrrpPacket.PriorityStop)
        {
            Interlocked.Increment(ref _priorityZeroReceived);
        }

        if (notes.HasFlag(AdvertisementNotes.AdvertIntervalMismatch))
        {
            Interlocked.Increment(ref _intervalMismatchAccepted);
        }

        if (notes.HasFlag(AdvertisementNotes.VirtualAddressMismatch))
        {
            Interlocked.Increment(ref _addressMismatchAccepted);
        }
    }

    internal void RecordSent(byte priority)
    {
        Interlocked.Increment(ref _advertisementsSent);
        if (priority == VrrpPacket.PriorityStop)
        {
            Interlocked.Increment(ref _priorityZeroSent);
        }
    }

    internal void RecordTransition(VrrpState from, VrrpState to)
    {
        Interlocked.Increment(ref _transitions);
        if (to == VrrpState.Master)
        {
            Interlocked.Increment(ref _becameMaster);
        }
        else if (from == VrrpState.Master)
        {
            Interlocked.Increment(ref _releasedMaster);
        }
    }

    internal void RecordLowerPriorityDiscarded() => Interlocked.Increment(ref _lowerPriorityDiscarded);

    internal void RecordLowerPriorityAnswered() => Interlocked.Increment(ref _lowerPriorityAnswered);
}
