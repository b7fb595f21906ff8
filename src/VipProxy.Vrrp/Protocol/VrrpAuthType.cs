namespace VipProxy.Vrrp.Protocol;

/// <summary>The VRRPv2 "Auth Type" field (RFC 3768 §5.3.6; RFC 2338 §5.3.6 defined the values). VRRPv3 has none.</summary>
public enum VrrpAuthType : byte
{
    /// <summary>No authentication; the 8 authentication bytes are zero on send and ignored on receipt.</summary>
    None = 0,

    /// <summary>keepalived's <c>auth_type PASS</c>: an 8-byte clear-text password, NUL-padded.</summary>
    SimplePassword = 1,

    /// <summary>keepalived's <c>auth_type AH</c>; travels as IP protocol 51, which this codec never receives.</summary>
    IPAuthenticationHeader = 2,
}
