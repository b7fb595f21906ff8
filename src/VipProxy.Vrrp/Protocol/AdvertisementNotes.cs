namespace VipProxy.Vrrp.Protocol;

/// <summary>Things worth logging about an advert that was nonetheless accepted.</summary>
[Flags]
public enum AdvertisementNotes
{
    /// <summary>Nothing unusual.</summary>
    None = 0,

    /// <summary>
    /// VRRPv3 advert interval differs from ours. RFC 5798 §6.4.2 has a backup adopt the master's interval, so this is
    /// logged, not dropped (keepalived does the same).
    /// </summary>
    AdvertIntervalMismatch = 1,

    /// <summary>
    /// The advertised address list differs from ours. RFC 3768 §7.1 says drop unless the sender is the owner;
    /// keepalived only logs, and we follow keepalived so a VIP-list typo on one node cannot cause a split brain.
    /// </summary>
    VirtualAddressMismatch = 2,
}
