using System.Net;
using VipProxy.Vrrp.Protocol;
using VipProxy.Vrrp.Tests.Support;
using static VipProxy.Vrrp.Tests.Support.TestAddresses;

namespace VipProxy.Vrrp.Tests;

/// <summary>Byte-exact encoding and decoding against packets built by hand from the RFC layouts.</summary>
public sealed class CodecTests
{
    /// <summary>
    /// Constructed from the RFC 3768 §5.1 layout to match what keepalived 2.2.7 sends for
    /// <c>virtual_router_id 51, priority 100, advert_int 1, auth_type PASS, auth_pass 1111,
    /// virtual_ipaddress 192.168.56.200</c> from 192.168.56.11: IP header with TOS 0xC0
    /// (IPTOS_PREC_INTERNETCONTROL), id 0, no DF, TTL 255, protocol 112, to 224.0.0.18.
    /// Not a capture: the checksums were computed independently (and are re-checked below with a naive sum).
    /// </summary>
    internal static readonly byte[] KeepalivedStyleV2 = Hex.Bytes(
        "45 c0 00 28 00 00 00 00 ff 70 e1 df c0 a8 38 0b e0 00 00 12" // IPv4 header
        + "21 33 64 01 01 01 1d f7"                                      // v2/type 1, vrid 51, prio 100, 1 addr, PASS, 1 s, checksum
        + "c0 a8 38 c8"                                                  // 192.168.56.200
        + "31 31 31 31 00 00 00 00");                                    // "1111" NUL-padded to 8 bytes

    /// <summary>The RFC 5798 §5.1 equivalent: v3, 100 centiseconds, no auth, checksum over the pseudo-header.</summary>
    internal static readonly byte[] HandBuiltV3 = Hex.Bytes(
        "45 c0 00 20 00 00 00 00 ff 70 e1 e7 c0 a8 38 0b e0 00 00 12"
        + "31 33 64 01 00 64 97 b3"                                      // v3/type 1, vrid 51, prio 100, 1 addr, rsvd 0 + 100 cs, checksum
        + "c0 a8 38 c8");

    [Fact]
    public void Hand_built_checksums_agree_with_a_naive_ones_complement_sum()
    {
        var v2Message = KeepalivedStyleV2[20..].ToArray();
        v2Message[6] = v2Message[7] = 0;
        Assert.Equal(0x1df7, NaiveChecksum.Compute(v2Message));

        var v3Message = HandBuiltV3[20..].ToArray();
        v3Message[6] = v3Message[7] = 0;
        var pseudo = NaiveChecksum.PseudoHeader([192, 168, 56, 11], [224, 0, 0, 18], v3Message.Length);
        Assert.Equal(0x97b3, NaiveChecksum.Compute(pseudo, v3Message));

        var ipHeader = KeepalivedStyleV2[..20].ToArray();
        ipHeader[10] = ipHeader[11] = 0;
        Assert.Equal(0xe1df, NaiveChecksum.Compute(ipHeader));
    }

    [Fact]
    public void Keepalived_style_v2_advert_decodes_field_by_field()
    {
        var verdict = VrrpCodec.Decode(KeepalivedStyleV2);

        Assert.True(verdict.IsAccepted, verdict.ToString());
        var received = verdict.Advertisement!;
        Assert.Equal(NodeA, received.Source);
        Assert.Equal(Multicast, received.Destination);
        Assert.Equal(255, received.TimeToLive);
        var packet = received.Packet;
        Assert.Equal(VrrpVersion.V2, packet.Version);
        Assert.Equal(51, packet.VirtualRouterId);
        Assert.Equal(100, packet.Priority);
        Assert.Equal(TimeSpan.FromSeconds(1), packet.AdvertisementInterval);
        Assert.Equal<IPAddress>([Vip], packet.Addresses);
        Assert.Equal(VrrpAuthType.SimplePassword, packet.AuthType);
        Assert.Equal("3131313100000000", Hex.Of(packet.AuthData.AsSpan()));
    }

    [Fact]
    public void Keepalived_style_v2_advert_is_accepted_by_a_matching_backup()
    {
        var verdict = VrrpCodec.Parse(KeepalivedStyleV2, Options(NodeB, priority: 90));
        Assert.True(verdict.IsAccepted, verdict.ToString());
        Assert.Equal(AdvertisementNotes.None, verdict.Notes);
    }

    [Fact]
    public void Encoder_reproduces_the_keepalived_style_v2_bytes()
    {
        var bytes = AdvertFrom(Options(NodeA, priority: 100), priority: 100);
        Assert.Equal(Hex.Of(KeepalivedStyleV2), Hex.Of(bytes));
    }

    [Fact]
    public void V3_advert_decodes_and_encodes_byte_exact()
    {
        var options = Options(NodeA, priority: 100, version: VrrpVersion.V3);
        Assert.Equal(Hex.Of(HandBuiltV3), Hex.Of(AdvertFrom(options, 100)));

        var packet = VrrpCodec.Decode(HandBuiltV3).Advertisement!.Packet;
        Assert.Equal(VrrpVersion.V3, packet.Version);
        Assert.Equal(TimeSpan.FromSeconds(1), packet.AdvertisementInterval);
        Assert.Equal(VrrpAuthType.None, packet.AuthType);
        Assert.True(packet.AuthData.IsEmpty);
        Assert.Equal<IPAddress>([Vip], packet.Addresses);
    }

    [Fact]
    public void V3_checksum_covers_the_pseudo_header_and_v2_does_not()
    {
        // Same VRRP bytes, different IP destination (as in unicast mode): v3 must fail, v2 must still verify.
        var v3 = HandBuiltV3.ToArray();
        v3[19] = 0x13; // 224.0.0.19
        Assert.Equal(DropReason.BadChecksum, VrrpCodec.Decode(v3).DropReason);

        var v2 = KeepalivedStyleV2.ToArray();
        v2[19] = 0x13;
        Assert.True(VrrpCodec.Decode(v2).IsAccepted);
    }

    [Fact]
    public void V3_unicast_advert_checksums_with_the_peer_as_destination()
    {
        var options = Options(NodeA, version: VrrpVersion.V3);
        var bytes = AdvertFrom(options, 100, destination: NodeB);
        var message = bytes[20..].ToArray();
        message[6] = message[7] = 0;
        var expected = NaiveChecksum.Compute(NaiveChecksum.PseudoHeader([192, 168, 56, 11], [192, 168, 56, 12], message.Length), message);
        Assert.Equal(expected, (bytes[26] << 8) | bytes[27]);
        Assert.True(VrrpCodec.Decode(bytes).IsAccepted);
    }

    [Fact]
    public void V3_reserved_interval_bits_are_ignored_on_receipt()
    {
        var bytes = HandBuiltV3.ToArray();
        bytes[24] |= 0xF0; // RFC 5798 §5.2.7: 4 reserved bits, "MUST be ignored on reception"
        FixVrrpChecksum(bytes);

        var verdict = VrrpCodec.Decode(bytes);
        Assert.True(verdict.IsAccepted);
        Assert.Equal(TimeSpan.FromSeconds(1), verdict.Advertisement!.Packet.AdvertisementInterval);
    }

    [Theory]
    [InlineData(VrrpVersion.V2, 1)]
    [InlineData(VrrpVersion.V2, 255)]
    [InlineData(VrrpVersion.V3, 1)]
    [InlineData(VrrpVersion.V3, 4095)]
    public void Interval_extremes_round_trip(VrrpVersion version, int units)
    {
        var unit = version == VrrpVersion.V2 ? TimeSpan.FromSeconds(1) : TimeSpan.FromMilliseconds(10);
        var packet = Packet(version) with { AdvertisementInterval = unit * units };
        var decoded = VrrpCodec.Decode(VrrpCodec.EncodeIPv4DatagramToArray(packet, NodeA, Multicast)).Advertisement!.Packet;
        Assert.Equal(unit * units, decoded.AdvertisementInterval);
    }

    [Theory]
    [InlineData(VrrpVersion.V2, 0)]
    [InlineData(VrrpVersion.V2, 3)]
    [InlineData(VrrpVersion.V2, 255)]
    [InlineData(VrrpVersion.V3, 0)]
    [InlineData(VrrpVersion.V3, 255)]
    public void Address_lists_round_trip(VrrpVersion version, int count)
    {
        var addresses = Enumerable.Range(0, count).Select(i => new IPAddress([10, 0, (byte)(i / 250), (byte)(i % 250)])).ToArray();
        var packet = Packet(version) with { Addresses = [.. addresses] };
        var bytes = VrrpCodec.EncodeIPv4DatagramToArray(packet, NodeA, Multicast);

        Assert.Equal(20 + 8 + (4 * count) + (version == VrrpVersion.V2 ? 8 : 0), bytes.Length);
        Assert.Equal<IPAddress>(addresses, VrrpCodec.Decode(bytes).Advertisement!.Packet.Addresses);
    }

    [Fact]
    public void Link_layer_padding_after_the_ip_total_length_is_ignored()
    {
        // Ethernet pads short frames to 60 bytes; the IP total length says where the datagram ends.
        byte[] padded = [.. HandBuiltV3, .. new byte[28]];
        Assert.True(VrrpCodec.Decode(padded).IsAccepted);
    }

    [Fact]
    public void Ip_options_are_skipped_using_the_header_length()
    {
        // IHL 6: one 4-byte option word (Router Alert, RFC 2113) between header and VRRP.
        var bytes = new List<byte>(KeepalivedStyleV2[..20]);
        bytes[0] = 0x46;
        bytes[3] = 0x2c; // total length 44
        bytes.AddRange([0x94, 0x04, 0x00, 0x00]);
        bytes.AddRange(KeepalivedStyleV2[20..]);

        var verdict = VrrpCodec.Decode(bytes.ToArray());
        Assert.True(verdict.IsAccepted, verdict.ToString());
    }

    [Fact]
    public void Priority_zero_and_owner_priority_round_trip()
    {
        foreach (byte priority in new byte[] { 0, 255 })
        {
            var bytes = AdvertFrom(Options(NodeA), priority);
            Assert.Equal(priority, VrrpCodec.Decode(bytes).Advertisement!.Packet.Priority);
        }
    }

    [Fact]
    public void Encoder_refuses_what_the_wire_cannot_carry()
    {
        var buffer = new byte[2000];
        Assert.Throws<ArgumentException>(() => VrrpCodec.Encode(Packet(VrrpVersion.V2) with { AdvertisementInterval = TimeSpan.FromMilliseconds(1500) }, NodeA, Multicast, buffer));
        Assert.Throws<ArgumentException>(() => VrrpCodec.Encode(Packet(VrrpVersion.V3) with { AdvertisementInterval = TimeSpan.FromMilliseconds(5) }, NodeA, Multicast, buffer));
        Assert.Throws<ArgumentException>(() => VrrpCodec.Encode(Packet(VrrpVersion.V3) with { AdvertisementInterval = TimeSpan.FromSeconds(41) }, NodeA, Multicast, buffer));
        Assert.Throws<ArgumentException>(() => VrrpCodec.Encode(Packet(VrrpVersion.V2) with { AuthData = [.. new byte[9]] }, NodeA, Multicast, buffer));
        Assert.Throws<ArgumentException>(() => VrrpCodec.Encode(Packet(VrrpVersion.V2) with { Addresses = [.. Enumerable.Repeat(Vip, 256)] }, NodeA, Multicast, buffer));
        Assert.Throws<ArgumentException>(() => VrrpCodec.Encode(Packet(VrrpVersion.V2), NodeA, Multicast, new byte[19]));
    }

    [Theory]
    [InlineData("1111", "3131313100000000")]
    [InlineData("12345678", "3132333435363738")]
    [InlineData("123456789", "3132333435363738")]
    [InlineData("", "0000000000000000")]
    public void Passwords_are_the_first_8_bytes_nul_padded_like_keepalived(string password, string wire)
    {
        Assert.Equal(wire, Hex.Of(VrrpAuthenticationData.NormalizePassword(password)));
    }

    [Fact]
    public void A_9_character_password_matches_its_8_character_prefix()
    {
        var sender = Options(NodeA) with { AuthPassword = "12345678" };
        var receiver = Options(NodeB) with { AuthPassword = "123456789" };
        Assert.True(VrrpCodec.Parse(AdvertFrom(sender, 100), receiver).IsAccepted);
    }

    internal static VrrpPacket Packet(VrrpVersion version) => new()
    {
        Version = version,
        VirtualRouterId = 51,
        Priority = 100,
        AdvertisementInterval = TimeSpan.FromSeconds(1),
        Addresses = [Vip],
    };

    /// <summary>Recomputes the VRRP checksum after a deliberate edit, using the naive implementation.</summary>
    internal static void FixVrrpChecksum(byte[] datagram)
    {
        int ihl = (datagram[0] & 0x0F) * 4;
        int total = (datagram[2] << 8) | datagram[3];
        var message = datagram[ihl..total];
        message[6] = message[7] = 0;
        ushort checksum = (message[0] >> 4) == 3
            ? NaiveChecksum.Compute(NaiveChecksum.PseudoHeader(datagram[12..16], datagram[16..20], message.Length), message)
            : NaiveChecksum.Compute(message);
        datagram[ihl + 6] = (byte)(checksum >> 8);
        datagram[ihl + 7] = (byte)checksum;
    }
}
