// Provenance: every datagram below was sent by keepalived v2.2.7 (Debian package, "Keepalived v2.2.7 (01/16,2022)")
// and captured off the wire, not built by hand. Capture setup (run as root; two throw-away namespaces joined by one
// veth pair, nothing touched in the root namespace):
//
//   ip netns add vpcap$$a; ip netns add vpcap$$b
//   ip link add vpa0 netns vpcap$$a type veth peer name vpb0 netns vpcap$$b
//   ip -n vpcap$$a addr add 198.18.200.1/24 dev vpa0;  ip -n vpcap$$b addr add 198.18.200.2/24 dev vpb0
//   ip -n vpcap$$a link set lo up; ip -n vpcap$$b link set lo up
//   ip -n vpcap$$a link set vpa0 up; ip -n vpcap$$b link set vpb0 up
//   ip netns exec vpcap$$b tcpdump -U -n -i vpb0 -w cap.pcap proto 112 &
//   ip netns exec vpcap$$a keepalived -n -l -D -P -f FILE.conf -p k.pid -r v.pid -c c.pid &
//   sleep 5-6                      # BACKUP (init) -> advert timeout -> MASTER, adverts flow
//   kill -TERM <keepalived>        # log: "(VI_x) sent 0 priority"
//   kill -INT <tcpdump>; tcpdump -n -r cap.pcap -x   # -x prints from the IP header on (Ethernet header stripped)
//   ip netns del vpcap$$a; ip netns del vpcap$$b
//
// Configs (one keepalived run each):
//
//   v2pass.conf                         v2noauth.conf                       v3.conf
//   vrrp_instance VI_1 {                vrrp_instance VI_2 {                global_defs { vrrp_version 3 }
//       state MASTER                        state MASTER                    vrrp_instance VI_3 {
//       interface vpa0                      interface vpa0                      state MASTER
//       virtual_router_id 51                virtual_router_id 52                interface vpa0
//       priority 100                        priority 100                        virtual_router_id 53
//       advert_int 1                        advert_int 1                        priority 150
//       authentication {                    virtual_ipaddress {                 advert_int 0.2
//           auth_type PASS                      198.18.200.100                  virtual_ipaddress {
//           auth_pass 1111                      198.18.200.101                      198.18.200.100
//       }                                   }                                   }
//       virtual_ipaddress {             }                                   }
//           198.18.200.100
//       }
//   }
//
// Observed on the wire (all runs): IPv4 header TOS 0xc0, no DF, TTL 255, protocol 112, 198.18.200.1 -> 224.0.0.18,
// IP identification counting up from 1 per instance socket; the VRRP payload bytes were identical in every advert of
// a run except for the priority-0 one sent on SIGTERM (which keeps the configured interval, v2 and v3).
using System.Buffers.Binary;
using System.Collections.Immutable;
using System.Net;
using VipProxy.Vrrp.Protocol;
using VipProxy.Vrrp.Tests.Support;

namespace VipProxy.Vrrp.Tests;

/// <summary>Byte-exact codec tests against adverts captured from keepalived 2.2.7 (see the provenance comment above).</summary>
public sealed class CapturedKeepalivedPacketTests
{
    private static readonly IPAddress Sender = IPAddress.Parse("198.18.200.1");
    private static readonly IPAddress Receiver = IPAddress.Parse("198.18.200.2");
    private static readonly IPAddress Vip1 = IPAddress.Parse("198.18.200.100");
    private static readonly IPAddress Vip2 = IPAddress.Parse("198.18.200.101");

    /// <summary>One captured datagram and the keepalived settings that produced it.</summary>
    /// <param name="Datagram">The IPv4 datagram exactly as captured (IP header + VRRP), Ethernet header stripped.</param>
    /// <param name="Identification">The IP identification keepalived used (to rebuild the whole datagram).</param>
    public sealed record Capture(
        string Datagram,
        ushort Identification,
        VrrpVersion Version,
        byte VirtualRouterId,
        byte ConfiguredPriority,
        byte Priority,
        TimeSpan Interval,
        VrrpAuthType AuthType,
        string? Password,
        ImmutableArray<IPAddress> Addresses)
    {
        public byte[] Bytes => Hex.Bytes(Datagram);

        /// <summary>The receiving side: a backup with the same instance settings, on 198.18.200.2.</summary>
        public VrrpInstanceOptions ReceiverOptions => Options(Receiver, priority: 90);

        /// <summary>The keepalived instance that sent it, as VipProxy options.</summary>
        public VrrpInstanceOptions SenderOptions => Options(Sender, ConfiguredPriority);

        private VrrpInstanceOptions Options(IPAddress primary, byte priority) => new()
        {
            Version = Version,
            VirtualRouterId = VirtualRouterId,
            Priority = priority,
            PrimaryAddress = primary,
            AdvertisementInterval = Interval,
            VirtualAddresses = [.. Addresses],
            AuthType = AuthType,
            AuthPassword = Password,
        };
    }

    /// <summary>The captures, keyed by name so the theory rows stay readable and serializable.</summary>
    private static readonly Dictionary<string, Capture> Captures = new()
    {
        // v2pass.conf, first advert after entering MASTER (IP id 1); vrid 51 (0x33), prio 100 (0x64), 1 addr, PASS (1), 1 s.
        ["v2-pass-1111"] = new(
            "45c0 0028 0001 0000 ff70 4c7e c612c801 e0000012" // IPv4: TOS 0xc0, len 40, id 1, no DF, TTL 255, proto 112
            + "21 33 64 01 01 01 88f0"                         // v2/advert, vrid 51, prio 100, count 1, auth PASS, 1 s, checksum
            + "c612c864"                                       // 198.18.200.100
            + "3131313100000000",                              // "1111" NUL-padded
            1, VrrpVersion.V2, 51, 100, 100, TimeSpan.FromSeconds(1), VrrpAuthType.SimplePassword, "1111", [Vip1]),

        // v2pass.conf, the advert sent on SIGTERM (IP id 4): priority 0, everything else unchanged.
        ["v2-pass-1111-priority-0"] = new(
            "45c0 0028 0004 0000 ff70 4c7b c612c801 e0000012"
            + "21 33 00 01 01 01 ecf0"
            + "c612c864"
            + "3131313100000000",
            4, VrrpVersion.V2, 51, 100, 0, TimeSpan.FromSeconds(1), VrrpAuthType.SimplePassword, "1111", [Vip1]),

        // v2noauth.conf (IP id 1): vrid 52, 2 addrs, auth type 0, auth data sent as 8 zero bytes.
        ["v2-noauth-two-vips"] = new(
            "45c0 002c 0001 0000 ff70 4c7a c612c801 e0000012"
            + "21 34 64 02 00 01 5dd8"
            + "c612c864 c612c865"
            + "0000000000000000",
            1, VrrpVersion.V2, 52, 100, 100, TimeSpan.FromSeconds(1), VrrpAuthType.None, null, [Vip1, Vip2]),

        // v2noauth.conf, SIGTERM advert (IP id 2).
        ["v2-noauth-two-vips-priority-0"] = new(
            "45c0 002c 0002 0000 ff70 4c79 c612c801 e0000012"
            + "21 34 00 02 00 01 c1d8"
            + "c612c864 c612c865"
            + "0000000000000000",
            2, VrrpVersion.V2, 52, 100, 0, TimeSpan.FromSeconds(1), VrrpAuthType.None, null, [Vip1, Vip2]),

        // v3.conf (IP id 1): v3/advert, vrid 53, prio 150 (0x96), 1 addr, rsvd 0 + 20 cs (0x014), pseudo-header checksum.
        ["v3-20cs-priority-150"] = new(
            "45c0 0020 0001 0000 ff70 4c86 c612c801 e0000012"
            + "31 35 96 01 0014 3b9a"
            + "c612c864",
            1, VrrpVersion.V3, 53, 150, 150, TimeSpan.FromMilliseconds(200), VrrpAuthType.None, null, [Vip1]),

        // v3.conf, SIGTERM advert (IP id 0x16 = 22nd advert): priority 0, interval still 20 cs.
        ["v3-20cs-priority-0"] = new(
            "45c0 0020 0016 0000 ff70 4c71 c612c801 e0000012"
            + "31 35 00 01 0014 d19a"
            + "c612c864",
            0x16, VrrpVersion.V3, 53, 150, 0, TimeSpan.FromMilliseconds(200), VrrpAuthType.None, null, [Vip1]),
    };

    /// <summary>Every captured datagram, as seeds for the hostile-input mutators.</summary>
    internal static IEnumerable<byte[]> CapturedDatagrams => Captures.Values.Select(c => c.Bytes);

    public static TheoryData<string> All => [.. Captures.Keys];

    public static TheoryData<string> WithPassword => [.. Captures.Where(c => c.Value.AuthType == VrrpAuthType.SimplePassword).Select(c => c.Key)];

    public static TheoryData<string> V2WithoutAuth => [.. Captures.Where(c => c.Value.Version == VrrpVersion.V2 && c.Value.AuthType == VrrpAuthType.None).Select(c => c.Key)];

    public static TheoryData<string> V2 => [.. Captures.Where(c => c.Value.Version == VrrpVersion.V2).Select(c => c.Key)];

    [Theory]
    [MemberData(nameof(All))]
    public void Captured_advert_is_accepted_with_the_expected_fields(string name)
    {
        var capture = Captures[name];

        var verdict = VrrpCodec.Parse(capture.Bytes, capture.ReceiverOptions);

        Assert.True(verdict.IsAccepted, verdict.ToString());
        Assert.Equal(AdvertisementNotes.None, verdict.Notes);
        var received = verdict.Advertisement!;
        Assert.Equal(Sender, received.Source);
        Assert.Equal(VrrpCodec.MulticastGroup, received.Destination);
        Assert.Equal(255, received.TimeToLive);
        var packet = received.Packet;
        Assert.Equal(capture.Version, packet.Version);
        Assert.Equal(capture.VirtualRouterId, packet.VirtualRouterId);
        Assert.Equal(capture.Priority, packet.Priority);
        Assert.Equal(capture.Addresses.Length, packet.Addresses.Length);
        Assert.Equal<IPAddress>(capture.Addresses, packet.Addresses);
        Assert.Equal(capture.Interval, packet.AdvertisementInterval);
        Assert.Equal(capture.AuthType, packet.AuthType);
        if (capture.Version == VrrpVersion.V2)
        {
            // keepalived sends 8 zero bytes when there is no auth, the NUL-padded password with PASS.
            Assert.Equal(Hex.Of(VrrpAuthenticationData.NormalizePassword(capture.Password)), Hex.Of(packet.AuthData.AsSpan()));
        }
        else
        {
            Assert.True(packet.AuthData.IsEmpty);
        }
    }

    [Theory]
    [MemberData(nameof(All))]
    public void Re_encoding_the_parsed_advert_reproduces_keepalived_bytes(string name)
    {
        var capture = Captures[name];
        var bytes = capture.Bytes;
        var packet = VrrpCodec.Decode(bytes).Advertisement!.Packet;

        var payload = VrrpCodec.EncodeToArray(packet, Sender, VrrpCodec.MulticastGroup);

        Assert.Equal(Hex.Of(bytes.AsSpan(20)), Hex.Of(payload));
        Assert.Equal(BinaryPrimitives.ReadUInt16BigEndian(bytes.AsSpan(26)), BinaryPrimitives.ReadUInt16BigEndian(payload.AsSpan(6)));
    }

    [Theory]
    [MemberData(nameof(All))]
    public void Encoding_from_the_same_instance_settings_reproduces_keepalived_bytes(string name)
    {
        // Stronger than a round trip: what a VipProxy master with keepalived's config would put on the wire.
        var capture = Captures[name];
        var bytes = capture.Bytes;
        var packet = VrrpPacket.ForInstance(capture.SenderOptions, capture.Priority);
        Assert.Empty(capture.SenderOptions.Validate());

        Assert.Equal(Hex.Of(bytes.AsSpan(20)), Hex.Of(VrrpCodec.EncodeToArray(packet, Sender, VrrpCodec.MulticastGroup)));

        // The whole datagram too, given keepalived's IP identification: same TOS, flags, TTL and header checksum.
        var datagram = new byte[bytes.Length];
        int written = VrrpCodec.EncodeIPv4Datagram(packet, Sender, VrrpCodec.MulticastGroup, datagram, identification: capture.Identification);
        Assert.Equal(bytes.Length, written);
        Assert.Equal(Hex.Of(bytes), Hex.Of(datagram));
    }

    [Theory]
    [MemberData(nameof(All))]
    public void Captured_checksums_agree_with_a_naive_ones_complement_sum(string name)
    {
        var bytes = Captures[name].Bytes;
        var message = bytes[20..];
        ushort onWire = BinaryPrimitives.ReadUInt16BigEndian(message.AsSpan(6));
        message[6] = message[7] = 0;
        ushort expected = (message[0] >> 4) == 3
            ? NaiveChecksum.Compute(NaiveChecksum.PseudoHeader(bytes[12..16], bytes[16..20], message.Length), message)
            : NaiveChecksum.Compute(message);
        Assert.Equal(expected, onWire);

        var header = bytes[..20];
        ushort headerOnWire = BinaryPrimitives.ReadUInt16BigEndian(header.AsSpan(10));
        header[10] = header[11] = 0;
        Assert.Equal(NaiveChecksum.Compute(header), headerOnWire);
    }

    [Theory]
    [MemberData(nameof(All))]
    public void Another_virtual_router_id_is_not_ours(string name)
    {
        var capture = Captures[name];
        var options = capture.ReceiverOptions with { VirtualRouterId = (byte)(capture.VirtualRouterId + 1) };
        Assert.Equal(DropReason.WrongVirtualRouterId, VrrpCodec.Parse(capture.Bytes, options).DropReason);
    }

    [Theory]
    [MemberData(nameof(WithPassword))]
    public void A_wrong_password_is_dropped(string name)
    {
        var capture = Captures[name];
        foreach (var password in new[] { "1112", "11111", "111" })
        {
            var options = capture.ReceiverOptions with { AuthPassword = password };
            Assert.Equal(DropReason.AuthPasswordMismatch, VrrpCodec.Parse(capture.Bytes, options).DropReason);
        }

        // Only the first 8 bytes count, as in keepalived: "1111" is not "1111" + anything, but "1111\0" is "1111".
        Assert.True(VrrpCodec.Parse(capture.Bytes, capture.ReceiverOptions with { AuthPassword = "1111\0" }).IsAccepted);
    }

    [Theory]
    [MemberData(nameof(WithPassword))]
    public void A_receiver_without_auth_drops_a_pass_advert(string name)
    {
        var capture = Captures[name];
        var options = capture.ReceiverOptions with { AuthType = VrrpAuthType.None, AuthPassword = null };
        Assert.Equal(DropReason.AuthTypeMismatch, VrrpCodec.Parse(capture.Bytes, options).DropReason);
    }

    [Theory]
    [MemberData(nameof(V2WithoutAuth))]
    public void A_receiver_expecting_a_password_drops_an_unauthenticated_advert(string name)
    {
        var capture = Captures[name];
        var options = capture.ReceiverOptions with { AuthType = VrrpAuthType.SimplePassword, AuthPassword = "1111" };
        Assert.Equal(DropReason.AuthTypeMismatch, VrrpCodec.Parse(capture.Bytes, options).DropReason);
    }

    [Theory]
    [MemberData(nameof(V2))]
    public void A_v2_interval_mismatch_is_dropped(string name)
    {
        var capture = Captures[name];
        var options = capture.ReceiverOptions with { AdvertisementInterval = TimeSpan.FromSeconds(2) };
        Assert.Equal(DropReason.AdvertIntervalMismatch, VrrpCodec.Parse(capture.Bytes, options).DropReason);
    }

    [Fact]
    public void A_v3_backup_with_another_interval_accepts_and_notes_it()
    {
        var capture = Captures["v3-20cs-priority-150"];
        var options = capture.ReceiverOptions with { AdvertisementInterval = TimeSpan.FromSeconds(1) };
        var verdict = VrrpCodec.Parse(capture.Bytes, options);
        Assert.True(verdict.IsAccepted, verdict.ToString());
        Assert.Equal(AdvertisementNotes.AdvertIntervalMismatch, verdict.Notes);
    }

    [Theory]
    [MemberData(nameof(All))]
    public void The_other_version_is_dropped(string name)
    {
        var capture = Captures[name];
        var other = capture.Version == VrrpVersion.V2 ? VrrpVersion.V3 : VrrpVersion.V2;
        var options = capture.ReceiverOptions with { Version = other };
        Assert.Equal(DropReason.WrongVersion, VrrpCodec.Parse(capture.Bytes, options).DropReason);
    }

    [Theory]
    [MemberData(nameof(All))]
    public void A_vip_list_mismatch_is_accepted_and_noted(string name)
    {
        var capture = Captures[name];
        var options = capture.ReceiverOptions with { VirtualAddresses = [IPAddress.Parse("198.18.200.102")] };
        var verdict = VrrpCodec.Parse(capture.Bytes, options);
        Assert.True(verdict.IsAccepted, verdict.ToString());
        Assert.Equal(AdvertisementNotes.VirtualAddressMismatch, verdict.Notes);
    }

    [Theory]
    [MemberData(nameof(All))]
    public void Our_own_advert_looped_back_is_dropped(string name)
    {
        var capture = Captures[name];
        Assert.Equal(DropReason.FromOwnAddress, VrrpCodec.Parse(capture.Bytes, capture.SenderOptions).DropReason);
    }

    [Theory]
    [MemberData(nameof(All))]
    public void Any_flipped_bit_in_the_vrrp_payload_fails_the_checksum(string name)
    {
        var original = Captures[name].Bytes;
        for (int offset = 20; offset < original.Length; offset++)
        {
            var bytes = original.ToArray();
            bytes[offset] ^= 0x01;
            var verdict = VrrpCodec.Decode(bytes);

            // Flipping the version or type nibble's low bit is caught earlier, by the version/type check.
            Assert.False(verdict.IsAccepted, $"offset {offset}");
            Assert.Contains(verdict.DropReason, new[] { DropReason.BadChecksum, DropReason.WrongVersion, DropReason.WrongType, DropReason.LengthMismatch });
        }
    }

    [Theory]
    [MemberData(nameof(All))]
    public void A_lowered_ttl_is_dropped(string name)
    {
        var bytes = Captures[name].Bytes;
        bytes[8] = 254; // VRRP does not cover the IP header (the v3 pseudo-header has no TTL), so only the TTL check can catch it.
        Assert.Equal(DropReason.TtlNot255, VrrpCodec.Parse(bytes, Captures[name].ReceiverOptions).DropReason);
    }
}
