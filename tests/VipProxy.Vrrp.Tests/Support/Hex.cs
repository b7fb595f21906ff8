namespace VipProxy.Vrrp.Tests.Support;

internal static class Hex
{
    /// <summary>"45 c0 00 28" → bytes; whitespace ignored.</summary>
    public static byte[] Bytes(string hex) =>
        Convert.FromHexString(string.Concat(hex.Where(c => !char.IsWhiteSpace(c))));

    public static string Of(ReadOnlySpan<byte> bytes) => Convert.ToHexString(bytes).ToLowerInvariant();
}
