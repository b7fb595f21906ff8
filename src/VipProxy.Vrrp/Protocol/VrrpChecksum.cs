using System.Buffers.Binary;
using System.Net;

namespace VipProxy.Vrrp.Protocol;

/// <summary>
/// The Internet checksum (RFC 1071: 16-bit one's complement of the one's complement sum) as VRRP uses it.
/// v2 covers the VRRP message only (RFC 3768 §5.3.8). v3 also covers an IPv4 pseudo-header of source, destination,
/// a zero byte, protocol 112 and the VRRP length (RFC 5798 §5.2.8). The IPv4 header checksum is the same algorithm.
/// </summary>
public static class VrrpChecksum
{
    /// <summary>Offset of the checksum field inside the VRRP header (both versions).</summary>
    public const int FieldOffset = 6;

    /// <summary>The checksum to write for a v2 message (its checksum field must be zero while computing).</summary>
    public static ushort ComputeV2(ReadOnlySpan<byte> message) => Finish(Sum(message, 0));

    /// <summary>The checksum to write for a v3 message over IPv4 (its checksum field must be zero while computing).</summary>
    public static ushort ComputeV3(ReadOnlySpan<byte> message, IPAddress source, IPAddress destination) =>
        Finish(Sum(message, PseudoHeaderSum(IPv4Address.ToUInt32(source), IPv4Address.ToUInt32(destination), message.Length)));

    /// <summary>
    /// True when a received message, checksum field included, sums to all ones. Summing the stored checksum too makes
    /// both +0 and −0 encodings of the same value verify.
    /// </summary>
    internal static bool Verifies(VrrpVersion version, ReadOnlySpan<byte> message, uint source, uint destination)
    {
        uint seed = version == VrrpVersion.V3 ? PseudoHeaderSum(source, destination, message.Length) : 0;
        return Fold(Sum(message, seed)) == 0xFFFF;
    }

    /// <summary>The checksum of an IPv4 header (RFC 791 §3.1) whose checksum field is zero.</summary>
    internal static ushort ComputeIPv4Header(ReadOnlySpan<byte> header) => Finish(Sum(header, 0));

    private static uint PseudoHeaderSum(uint source, uint destination, int vrrpLength) =>
        (source >> 16) + (source & 0xFFFF) + (destination >> 16) + (destination & 0xFFFF)
        + VrrpPacket.IPProtocolNumber + (uint)vrrpLength;

    private static uint Sum(ReadOnlySpan<byte> data, uint seed)
    {
        // A VRRP message is at most 8 + 255 * 4 + 8 bytes, so a 32-bit accumulator cannot overflow before folding.
        ulong sum = seed;
        int i = 0;
        for (; i + 1 < data.Length; i += 2)
        {
            sum += BinaryPrimitives.ReadUInt16BigEndian(data[i..]);
        }

        if (i < data.Length)
        {
            sum += (uint)data[i] << 8; // RFC 1071: an odd final byte is padded with a zero byte.
        }

        while (sum > 0xFFFF)
        {
            sum = (sum & 0xFFFF) + (sum >> 16);
        }

        return (uint)sum;
    }

    private static ushort Fold(uint sum)
    {
        while (sum > 0xFFFF)
        {
            sum = (sum & 0xFFFF) + (sum >> 16);
        }

        return (ushort)sum;
    }

    private static ushort Finish(uint sum) => (ushort)~Fold(sum);
}
