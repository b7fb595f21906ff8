namespace VipProxy.Vrrp.Protocol;

/// <summary>
/// The latest report of every tracked item, and what they add up to: keepalived's effective priority and Fault.
/// </summary>
internal sealed class TrackingTable
{
    private readonly Dictionary<string, (bool Faulted, int PriorityDelta)> _items = new(StringComparer.Ordinal);

    public bool IsFaulted { get; private set; }

    public int TotalPriorityDelta { get; private set; }

    public void Update(string tracker, bool faulted, int priorityDelta)
    {
        _items[tracker] = (faulted, priorityDelta);
        bool anyFault = false;
        long total = 0;
        foreach (var (itemFaulted, delta) in _items.Values)
        {
            anyFault |= itemFaulted;
            total += delta;
        }

        IsFaulted = anyFault;
        TotalPriorityDelta = (int)Math.Clamp(total, int.MinValue, int.MaxValue);
    }

    /// <summary>
    /// keepalived: effective = configured + sum of weights, clamped to 1..254 so tracking can neither make a router
    /// the address owner nor make it send the "stopping" priority 0. An owner (255) keeps 255: keepalived refuses
    /// weighted tracking for it.
    /// </summary>
    public byte EffectivePriority(byte configured)
    {
        if (configured == VrrpPacket.PriorityOwner)
        {
            return configured;
        }

        long effective = (long)configured + TotalPriorityDelta;
        return (byte)Math.Clamp(effective, 1, VrrpPacket.PriorityOwner - 1);
    }
}
