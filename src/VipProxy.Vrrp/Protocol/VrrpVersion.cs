namespace VipProxy.Vrrp.Protocol;

/// <summary>The VRRP protocol version carried in the high nibble of the first header byte.</summary>
public enum VrrpVersion : byte
{
    /// <summary>VRRPv2, RFC 3768: advert interval in whole seconds, optional PASS authentication.</summary>
    V2 = 2,

    /// <summary>VRRPv3, RFC 5798: advert interval in centiseconds, no authentication, pseudo-header checksum.</summary>
    V3 = 3,
}
