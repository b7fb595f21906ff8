using System.Buffers.Binary;
using System.Collections.Immutable;
using System.Net;

namespace VipProxy.Vrrp.Protocol;

/// <summary>
/// Reads and writes VRRPv2 (RFC 3768 §5) and VRRPv3 (RFC 5798 §5) advertisements over IPv4.
/// <para>
/// Receiving is two steps so that one socket can serve several instances: <see cref="Decode"/> checks what any
/// receiver would (IPv4 header, protocol 112, version, type, length, checksum) and <see cref="VrrpAdvertisementValidator"/>
/// checks it against one instance's options. <see cref="Parse"/> does both. Neither ever throws on received bytes.
/// </para>
/// </summary>
public static class VrrpCodec
{
    /// <summary>The VRRP multicast group, 224.0.0.18 (RFC 5798 §5.1.1.2).</summary>
    public static readonly IPAddress MulticastGroup = IPAddress.Parse("224.0.0.18");

    /// <summary>Decodes and then validates a datagram for one instance.</summary>
    /// <param name="ipDatagram">Received bytes starting at the IPv4 header, as a Linux raw socket delivers them.</param>
    /// <param name="options">The receiving instance.</param>
    public static VrrpVerdict Parse(ReadOnlySpan<byte> ipDatagram, VrrpInstanceOptions options)
    {
        var decoded = Decode(ipDatagram);
        return decoded.IsAccepted ? VrrpAdvertisementValidator.Validate(decoded.Advertisement!, options) : decoded;
    }

    /// <summary>
    /// Structural decode, independent of any instance. Checks, in order: IPv4 header, protocol 112, VRRP fixed header
    /// present, version 2 or 3, type ADVERTISEMENT, length exactly as "Count IP Addrs" implies (plus 8 auth bytes for
    /// v2), checksum (RFC 3768 §7.1 / RFC 5798 §7.1, first four checks).
    /// </summary>
    public static VrrpVerdict Decode(ReadOnlySpan<byte> ipDatagram)
    {
        if (!IPv4Header.TryRead(ipDatagram, out var ip))
        {
            return VrrpVerdict.Drop(DropReason.MalformedIPHeader);
        }

        if (ip.Protocol != VrrpPacket.IPProtocolNumber)
        {
            return VrrpVerdict.Drop(DropReason.NotVrrpProtocol);
        }

        // Bytes past the IP total length are link-layer padding, not VRRP.
        var message = ipDatagram[ip.HeaderLength..ip.TotalLength];
        if (message.Length < VrrpPacket.FixedHeaderLength)
        {
            return VrrpVerdict.Drop(DropReason.LengthMismatch);
        }

        var version = (VrrpVersion)(message[0] >> 4);
        if (version is not (VrrpVersion.V2 or VrrpVersion.V3))
        {
            return VrrpVerdict.Drop(DropReason.WrongVersion);
        }

        if ((message[0] & 0x0F) != VrrpPacket.AdvertisementType)
        {
            return VrrpVerdict.Drop(DropReason.WrongType);
        }

        int count = message[3];
        if (message.Length != EncodedLength(version, count))
        {
            return VrrpVerdict.Drop(DropReason.LengthMismatch);
        }

        if (!VrrpChecksum.Verifies(version, message, ip.Source, ip.Destination))
        {
            return VrrpVerdict.Drop(DropReason.BadChecksum);
        }

        var packet = ReadPacket(version, message, count);
        return VrrpVerdict.Accept(new ReceivedAdvertisement(packet, ToAddress(ip.Source), ToAddress(ip.Destination), ip.TimeToLive));
    }

    /// <summary>Length in bytes of the encoded VRRP message (no IP header).</summary>
    public static int GetEncodedLength(VrrpPacket packet)
    {
        ArgumentNullException.ThrowIfNull(packet);
        return EncodedLength(packet.Version, packet.Addresses.IsDefault ? 0 : packet.Addresses.Length);
    }

    /// <summary>
    /// Writes the VRRP message with its checksum. The addresses are the IP source and destination the message will
    /// travel with; v3 needs them for the pseudo-header checksum, v2 ignores them.
    /// </summary>
    /// <returns>Bytes written.</returns>
    /// <exception cref="ArgumentException">The packet cannot be encoded exactly, or the buffer is too small.</exception>
    public static int Encode(VrrpPacket packet, IPAddress sourceAddress, IPAddress destinationAddress, Span<byte> buffer)
    {
        ArgumentNullException.ThrowIfNull(packet);
        ArgumentNullException.ThrowIfNull(sourceAddress);
        ArgumentNullException.ThrowIfNull(destinationAddress);
        var addresses = packet.Addresses.IsDefault ? [] : packet.Addresses;
        if (addresses.Length > byte.MaxValue)
        {
            throw new ArgumentException("At most 255 addresses fit the count field.", nameof(packet));
        }

        int length = EncodedLength(packet.Version, addresses.Length);
        if (buffer.Length < length)
        {
            throw new ArgumentException($"Need {length} bytes.", nameof(buffer));
        }

        var message = buffer[..length];
        message.Clear();
        message[0] = (byte)(((byte)packet.Version << 4) | VrrpPacket.AdvertisementType);
        message[1] = packet.VirtualRouterId;
        message[2] = packet.Priority;
        message[3] = (byte)addresses.Length;
        for (int i = 0; i < addresses.Length; i++)
        {
            BinaryPrimitives.WriteUInt32BigEndian(message[(VrrpPacket.FixedHeaderLength + (4 * i))..], IPv4Address.ToUInt32(addresses[i]));
        }

        ushort checksum;
        if (packet.Version == VrrpVersion.V2)
        {
            message[4] = (byte)packet.AuthType;
            message[5] = IntervalSeconds(packet.AdvertisementInterval);
            var auth = packet.AuthData.IsDefault ? [] : packet.AuthData;
            if (auth.Length > VrrpAuthenticationData.Length)
            {
                throw new ArgumentException("v2 authentication data is 8 bytes.", nameof(packet));
            }

            auth.AsSpan().CopyTo(message[(length - VrrpAuthenticationData.Length)..]);
            checksum = VrrpChecksum.ComputeV2(message);
        }
        else if (packet.Version == VrrpVersion.V3)
        {
            // RFC 5798 §5.2.7: 4 reserved bits (zero on send) then 12 bits of centiseconds.
            BinaryPrimitives.WriteUInt16BigEndian(message[4..], IntervalCentiseconds(packet.AdvertisementInterval));
            checksum = VrrpChecksum.ComputeV3(message, sourceAddress, destinationAddress);
        }
        else
        {
            throw new ArgumentException("Unknown VRRP version.", nameof(packet));
        }

        BinaryPrimitives.WriteUInt16BigEndian(message[VrrpChecksum.FieldOffset..], checksum);
        return length;
    }

    /// <summary>
    /// Writes a whole IPv4 datagram: a 20-byte header shaped like keepalived's (TOS 0xC0, no DF, protocol 112) and
    /// the VRRP message. For IP_HDRINCL senders and for tests.
    /// </summary>
    /// <returns>Bytes written.</returns>
    public static int EncodeIPv4Datagram(
        VrrpPacket packet,
        IPAddress sourceAddress,
        IPAddress destinationAddress,
        Span<byte> buffer,
        byte timeToLive = 255,
        ushort identification = 0,
        byte typeOfService = IPv4Header.InternetControlTypeOfService)
    {
        ArgumentNullException.ThrowIfNull(packet);
        if (buffer.Length < IPv4Header.MinimumLength)
        {
            throw new ArgumentException("Buffer too small.", nameof(buffer));
        }

        int payload = Encode(packet, sourceAddress, destinationAddress, buffer[IPv4Header.MinimumLength..]);
        IPv4Header.Write(
            buffer,
            payload,
            timeToLive,
            VrrpPacket.IPProtocolNumber,
            IPv4Address.ToUInt32(sourceAddress),
            IPv4Address.ToUInt32(destinationAddress),
            identification,
            typeOfService);
        return IPv4Header.MinimumLength + payload;
    }

    /// <summary>Convenience: <see cref="Encode"/> into a new array.</summary>
    public static byte[] EncodeToArray(VrrpPacket packet, IPAddress sourceAddress, IPAddress destinationAddress)
    {
        var bytes = new byte[GetEncodedLength(packet)];
        Encode(packet, sourceAddress, destinationAddress, bytes);
        return bytes;
    }

    /// <summary>Convenience: <see cref="EncodeIPv4Datagram"/> into a new array.</summary>
    public static byte[] EncodeIPv4DatagramToArray(VrrpPacket packet, IPAddress sourceAddress, IPAddress destinationAddress, byte timeToLive = 255)
    {
        var bytes = new byte[IPv4Header.MinimumLength + GetEncodedLength(packet)];
        EncodeIPv4Datagram(packet, sourceAddress, destinationAddress, bytes, timeToLive);
        return bytes;
    }

    private static int EncodedLength(VrrpVersion version, int addressCount) =>
        VrrpPacket.FixedHeaderLength + (4 * addressCount) + (version == VrrpVersion.V2 ? VrrpAuthenticationData.Length : 0);

    private static VrrpPacket ReadPacket(VrrpVersion version, ReadOnlySpan<byte> message, int count)
    {
        var addresses = ImmutableArray.CreateBuilder<IPAddress>(count);
        for (int i = 0; i < count; i++)
        {
            addresses.Add(new IPAddress(message.Slice(VrrpPacket.FixedHeaderLength + (4 * i), 4)));
        }

        bool v2 = version == VrrpVersion.V2;
        return new VrrpPacket
        {
            Version = version,
            VirtualRouterId = message[1],
            Priority = message[2],
            AdvertisementInterval = v2
                ? TimeSpan.FromSeconds(message[5])
                : VrrpTiming.Centisecond * (BinaryPrimitives.ReadUInt16BigEndian(message[4..]) & 0x0FFF), // reserved bits ignored on receipt
            Addresses = addresses.MoveToImmutable(),
            AuthType = v2 ? (VrrpAuthType)message[4] : VrrpAuthType.None,
            AuthData = v2 ? ImmutableArray.Create(message[^VrrpAuthenticationData.Length..]) : [],
        };
    }

    private static byte IntervalSeconds(TimeSpan interval)
    {
        if (interval.Ticks % TimeSpan.TicksPerSecond != 0 || interval < TimeSpan.Zero || interval > TimeSpan.FromSeconds(255))
        {
            throw new ArgumentException("A v2 advert interval is 0-255 whole seconds.", nameof(interval));
        }

        return (byte)(interval.Ticks / TimeSpan.TicksPerSecond);
    }

    private static ushort IntervalCentiseconds(TimeSpan interval)
    {
        if (interval.Ticks % VrrpTiming.Centisecond.Ticks != 0 || interval < TimeSpan.Zero || interval > VrrpTiming.Centisecond * 4095)
        {
            throw new ArgumentException("A v3 advert interval is 0-4095 centiseconds.", nameof(interval));
        }

        return (ushort)(interval.Ticks / VrrpTiming.Centisecond.Ticks);
    }

    private static IPAddress ToAddress(uint address)
    {
        Span<byte> bytes = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, address);
        return new IPAddress(bytes);
    }
}
