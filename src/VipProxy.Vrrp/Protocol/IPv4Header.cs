using System.Buffers.Binary;

namespace VipProxy.Vrrp.Protocol;

/// <summary>
/// The parts of an IPv4 header (RFC 791 §3.1) VRRP needs. Linux raw sockets deliver the header as it was on the
/// wire, with the total length in network byte order.
/// </summary>
internal readonly record struct IPv4Header(int HeaderLength, int TotalLength, byte TimeToLive, byte Protocol, uint Source, uint Destination)
{
    /// <summary>A header without options.</summary>
    public const int MinimumLength = 20;

    /// <summary>IPTOS_PREC_INTERNETCONTROL, the type of service keepalived puts on its adverts.</summary>
    public const byte InternetControlTypeOfService = 0xC0;

    private const ushort MoreFragmentsFlag = 0x2000;
    private const ushort FragmentOffsetMask = 0x1FFF;

    /// <summary>Reads and sanity-checks a header; false on anything inconsistent. Never throws.</summary>
    public static bool TryRead(ReadOnlySpan<byte> datagram, out IPv4Header header)
    {
        header = default;
        if (datagram.Length < MinimumLength || datagram[0] >> 4 != 4)
        {
            return false;
        }

        int headerLength = (datagram[0] & 0x0F) * 4;
        int totalLength = BinaryPrimitives.ReadUInt16BigEndian(datagram[2..]);
        if (headerLength < MinimumLength || headerLength > datagram.Length
            || totalLength < headerLength || totalLength > datagram.Length)
        {
            return false;
        }

        // The kernel reassembles before delivering to a raw socket; a fragment here is forged or broken.
        ushort fragment = BinaryPrimitives.ReadUInt16BigEndian(datagram[6..]);
        if ((fragment & (MoreFragmentsFlag | FragmentOffsetMask)) != 0)
        {
            return false;
        }

        header = new IPv4Header(
            headerLength,
            totalLength,
            TimeToLive: datagram[8],
            Protocol: datagram[9],
            Source: BinaryPrimitives.ReadUInt32BigEndian(datagram[12..]),
            Destination: BinaryPrimitives.ReadUInt32BigEndian(datagram[16..]));
        return true;
    }

    /// <summary>Writes a 20-byte header (no options, no DF) with its checksum.</summary>
    public static void Write(Span<byte> destination, int payloadLength, byte timeToLive, byte protocol, uint source, uint target, ushort identification, byte typeOfService)
    {
        destination[..MinimumLength].Clear();
        destination[0] = 0x45; // version 4, IHL 5 words
        destination[1] = typeOfService;
        BinaryPrimitives.WriteUInt16BigEndian(destination[2..], checked((ushort)(MinimumLength + payloadLength)));
        BinaryPrimitives.WriteUInt16BigEndian(destination[4..], identification);
        destination[8] = timeToLive;
        destination[9] = protocol;
        BinaryPrimitives.WriteUInt32BigEndian(destination[12..], source);
        BinaryPrimitives.WriteUInt32BigEndian(destination[16..], target);
        BinaryPrimitives.WriteUInt16BigEndian(destination[10..], VrrpChecksum.ComputeIPv4Header(destination[..MinimumLength]));
    }
}
