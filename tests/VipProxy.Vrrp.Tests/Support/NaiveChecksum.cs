namespace VipProxy.Vrrp.Tests.Support;

/// <summary>
/// An independent, deliberately simple RFC 1071 checksum for test expectations: add 16-bit big-endian words in a
/// long, fold the carries, complement. No shared code with the implementation under test.
/// </summary>
internal static class NaiveChecksum
{
    public static ushort Compute(params byte[][] parts)
    {
        var all = parts.SelectMany(p => p).ToList();
        if (all.Count % 2 == 1)
        {
            all.Add(0);
        }

        long sum = 0;
        for (int i = 0; i < all.Count; i += 2)
        {
            sum += (all[i] << 8) | all[i + 1];
        }

        while (sum > 0xFFFF)
        {
            sum = (sum & 0xFFFF) + (sum >> 16);
        }

        return (ushort)(~sum & 0xFFFF);
    }

    /// <summary>The RFC 5798 §5.2.8 IPv4 pseudo-header: source, destination, zero, protocol 112, VRRP length.</summary>
    public static byte[] PseudoHeader(byte[] source, byte[] destination, int vrrpLength) =>
        [.. source, .. destination, 0, 112, (byte)(vrrpLength >> 8), (byte)vrrpLength];
}
