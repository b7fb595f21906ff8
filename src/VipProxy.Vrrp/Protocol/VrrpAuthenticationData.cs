namespace VipProxy.Vrrp.Protocol;

/// <summary>The VRRPv2 simple-password rules, matched to keepalived so mixed clusters agree.</summary>
public static class VrrpAuthenticationData
{
    /// <summary>The VRRPv2 "Authentication Data" field is always 8 bytes (RFC 3768 §5.3.10, two 32-bit words).</summary>
    public const int Length = 8;

    /// <summary>
    /// Turns a configured password into the 8 bytes that go on the wire. keepalived copies at most 8 bytes of
    /// <c>auth_pass</c> and leaves the rest NUL, so "1111" and "1111\0\0\0\0" are the same password and
    /// "123456789" equals "12345678". Characters are taken as UTF-8, as keepalived reads its config bytes.
    /// </summary>
    public static byte[] NormalizePassword(string? password)
    {
        var result = new byte[Length];
        if (!string.IsNullOrEmpty(password))
        {
            var utf8 = System.Text.Encoding.UTF8.GetBytes(password);
            utf8.AsSpan(0, Math.Min(utf8.Length, Length)).CopyTo(result);
        }

        return result;
    }
}
