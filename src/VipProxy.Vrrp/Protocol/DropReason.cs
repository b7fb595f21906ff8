namespace VipProxy.Vrrp.Protocol;

/// <summary>
/// Why a received datagram was not accepted as an advertisement for this instance. Every reason has its own counter
/// (<see cref="VrrpCounters.GetDropped"/>). Only accepted adverts may touch the Master_Down_Timer.
/// </summary>
public enum DropReason
{
    /// <summary>Not dropped.</summary>
    None = 0,

    /// <summary>Too short for an IPv4 header, not IPv4, bad IHL or total length, or a fragment.</summary>
    MalformedIPHeader,

    /// <summary>The IP protocol is not 112 (RFC 5798 §5.1.1.4).</summary>
    NotVrrpProtocol,

    /// <summary>The VRRP message is shorter or longer than its "Count IP Addrs" field implies (RFC 3768 §7.1 "complete VRRP packet").</summary>
    LengthMismatch,

    /// <summary>The version is neither 2 nor 3, or not the version this instance runs (RFC 3768 §7.1, RFC 5798 §7.1).</summary>
    WrongVersion,

    /// <summary>The type is not 1 = ADVERTISEMENT (RFC 5798 §5.2.2: other types are discarded).</summary>
    WrongType,

    /// <summary>The checksum does not verify (RFC 3768 §5.3.8 message only; RFC 5798 §5.2.8 with the pseudo-header).</summary>
    BadChecksum,

    /// <summary>Another virtual router's advert on the same link: "not ours", not an error, but counted.</summary>
    WrongVirtualRouterId,

    /// <summary>IP TTL is not 255 (RFC 3768 §7.1, RFC 5798 §7.1): the packet crossed a router or was forged off-link.</summary>
    TtlNot255,

    /// <summary>Our own advert came back (multicast loop, or someone using our address): never an election input.</summary>
    FromOwnAddress,

    /// <summary>Unicast mode and the source is not a configured <c>unicast_peer</c>.</summary>
    SourceNotUnicastPeer,

    /// <summary>The VRRPv2 auth type differs from ours (RFC 3768 §7.1).</summary>
    AuthTypeMismatch,

    /// <summary>The VRRPv2 PASS password's 8 bytes differ from ours (keepalived compares exactly 8 bytes).</summary>
    AuthPasswordMismatch,

    /// <summary>VRRPv2 advert interval differs from ours (RFC 3768 §7.1 MUST discard), or a VRRPv3 interval of zero.</summary>
    AdvertIntervalMismatch,
}
