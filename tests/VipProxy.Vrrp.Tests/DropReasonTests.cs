using System.Net;
using VipProxy.Vrrp.Protocol;
using static VipProxy.Vrrp.Tests.Support.TestAddresses;

namespace VipProxy.Vrrp.Tests;

/// <summary>Every drop reason, produced from a valid keepalived-style advert by one deliberate fault.</summary>
public sealed class DropReasonTests
{
    private static readonly VrrpInstanceOptions Receiver = Options(NodeB, priority: 90);
    private static readonly VrrpInstanceOptions Sender = Options(NodeA, priority: 100);

    public static TheoryData<string, DropReason> StructuralCases => new()
    {
        { "empty", DropReason.MalformedIPHeader },
        { "19 bytes", DropReason.MalformedIPHeader },
        { "IP version 6", DropReason.MalformedIPHeader },
        { "IHL 4", DropReason.MalformedIPHeader },
        { "IHL beyond buffer", DropReason.MalformedIPHeader },
        { "total length beyond buffer", DropReason.MalformedIPHeader },
        { "total length below IHL", DropReason.MalformedIPHeader },
        { "more-fragments flag", DropReason.MalformedIPHeader },
        { "fragment offset", DropReason.MalformedIPHeader },
        { "protocol UDP", DropReason.NotVrrpProtocol },
        { "VRRP header truncated to 7 bytes", DropReason.LengthMismatch },
        { "count 2 with one address", DropReason.LengthMismatch },
        { "4 extra bytes", DropReason.LengthMismatch },
        { "auth data missing", DropReason.LengthMismatch },
        { "version 1", DropReason.WrongVersion },
        { "version 15", DropReason.WrongVersion },
        { "type 2", DropReason.WrongType },
        { "checksum off by one", DropReason.BadChecksum },
        { "address byte flipped", DropReason.BadChecksum },
    };

    [Theory]
    [MemberData(nameof(StructuralCases))]
    public void Structural_faults_are_dropped_with_their_reason(string fault, DropReason expected)
    {
        var bytes = Mutate(fault);
        Assert.Equal(expected, VrrpCodec.Decode(bytes).DropReason);
        Assert.Equal(expected, VrrpCodec.Parse(bytes, Receiver).DropReason);
    }

    [Fact]
    public void Other_virtual_router_is_dropped_as_not_ours()
    {
        var bytes = AdvertFrom(Sender with { VirtualRouterId = 52 }, 100);
        Assert.Equal(DropReason.WrongVirtualRouterId, VrrpCodec.Parse(bytes, Receiver).DropReason);
    }

    [Fact]
    public void Other_virtual_router_wins_over_every_other_instance_check()
    {
        // A v3 advert with a low TTL for VRID 52 is another router's business, not an error of ours.
        var bytes = AdvertFrom(Options(NodeA, version: VrrpVersion.V3) with { VirtualRouterId = 52 }, 100, ttl: 1);
        Assert.Equal(DropReason.WrongVirtualRouterId, VrrpCodec.Parse(bytes, Receiver).DropReason);
    }

    [Fact]
    public void Version_other_than_the_instances_is_dropped()
    {
        var v3 = AdvertFrom(Options(NodeA, version: VrrpVersion.V3), 100);
        Assert.Equal(DropReason.WrongVersion, VrrpCodec.Parse(v3, Receiver).DropReason);
        Assert.Equal(DropReason.WrongVersion, VrrpCodec.Parse(CodecTests.KeepalivedStyleV2, Options(NodeB, version: VrrpVersion.V3)).DropReason);
    }

    [Theory]
    [InlineData(254)]
    [InlineData(64)]
    [InlineData(1)]
    public void Ttl_other_than_255_is_dropped(byte ttl)
    {
        Assert.Equal(DropReason.TtlNot255, VrrpCodec.Parse(AdvertFrom(Sender, 100, ttl), Receiver).DropReason);
    }

    [Fact]
    public void Ttl_check_can_be_turned_off()
    {
        Assert.True(VrrpCodec.Parse(AdvertFrom(Sender, 100, ttl: 64), Receiver with { CheckTtl = false }).IsAccepted);
    }

    [Fact]
    public void Own_address_is_dropped()
    {
        Assert.Equal(DropReason.FromOwnAddress, VrrpCodec.Parse(AdvertFrom(Options(NodeB), 100), Receiver).DropReason);
    }

    [Fact]
    public void Unicast_source_not_a_peer_is_dropped_unless_the_check_is_off()
    {
        var unicastReceiver = Receiver with { UnicastPeers = [NodeC] };
        var fromA = AdvertFrom(Sender, 100, destination: NodeB);

        Assert.Equal(DropReason.SourceNotUnicastPeer, VrrpCodec.Parse(fromA, unicastReceiver).DropReason);
        Assert.True(VrrpCodec.Parse(fromA, unicastReceiver with { CheckUnicastSource = false }).IsAccepted);
        Assert.True(VrrpCodec.Parse(fromA, unicastReceiver with { UnicastPeers = [NodeC, NodeA] }).IsAccepted);
    }

    [Fact]
    public void Auth_type_mismatch_is_dropped()
    {
        var noAuth = AdvertFrom(Sender with { AuthType = VrrpAuthType.None, AuthPassword = null }, 100);
        Assert.Equal(DropReason.AuthTypeMismatch, VrrpCodec.Parse(noAuth, Receiver).DropReason);
        Assert.Equal(DropReason.AuthTypeMismatch, VrrpCodec.Parse(CodecTests.KeepalivedStyleV2, Receiver with { AuthType = VrrpAuthType.None, AuthPassword = null }).DropReason);
    }

    [Theory]
    [InlineData("2222")]
    [InlineData("11111")]
    [InlineData("111")]
    public void Auth_password_mismatch_is_dropped(string password)
    {
        var bytes = AdvertFrom(Sender with { AuthPassword = password }, 100);
        Assert.Equal(DropReason.AuthPasswordMismatch, VrrpCodec.Parse(bytes, Receiver).DropReason);
    }

    [Fact]
    public void Without_auth_the_auth_bytes_are_ignored()
    {
        // RFC 3768 §5.3.10: with auth type 0 the data is "ignored on reception".
        var receiver = Receiver with { AuthType = VrrpAuthType.None, AuthPassword = null };
        var packet = VrrpPacket.ForInstance(receiver with { PrimaryAddress = NodeA }, 100) with { AuthData = [1, 2, 3, 4, 5, 6, 7, 8] };
        var bytes = VrrpCodec.EncodeIPv4DatagramToArray(packet, NodeA, Multicast);
        Assert.True(VrrpCodec.Parse(bytes, receiver).IsAccepted);
    }

    [Fact]
    public void V2_interval_mismatch_is_dropped()
    {
        var bytes = AdvertFrom(Sender with { AdvertisementInterval = TimeSpan.FromSeconds(2) }, 100);
        Assert.Equal(DropReason.AdvertIntervalMismatch, VrrpCodec.Parse(bytes, Receiver).DropReason);
    }

    [Fact]
    public void V3_interval_mismatch_is_accepted_and_noted()
    {
        var sender = Options(NodeA, version: VrrpVersion.V3) with { AdvertisementInterval = TimeSpan.FromMilliseconds(500) };
        var verdict = VrrpCodec.Parse(AdvertFrom(sender, 100), Options(NodeB, version: VrrpVersion.V3));
        Assert.True(verdict.IsAccepted);
        Assert.Equal(AdvertisementNotes.AdvertIntervalMismatch, verdict.Notes);
    }

    [Fact]
    public void V3_zero_interval_is_dropped()
    {
        var bytes = AdvertFrom(Options(NodeA, version: VrrpVersion.V3), 100);
        bytes[24] = 0;
        bytes[25] = 0;
        CodecTests.FixVrrpChecksum(bytes);
        Assert.Equal(DropReason.AdvertIntervalMismatch, VrrpCodec.Parse(bytes, Options(NodeB, version: VrrpVersion.V3)).DropReason);
    }

    [Theory]
    [InlineData(VrrpVersion.V2, "192.168.56.201", "192.168.56.200")]
    [InlineData(VrrpVersion.V3, "192.168.56.200 192.168.56.201", "192.168.56.200")]
    [InlineData(VrrpVersion.V2, "", "192.168.56.200")]
    [InlineData(VrrpVersion.V3, "192.168.56.200 192.168.56.200", "192.168.56.200 192.168.56.201")]
    public void Address_list_mismatch_is_accepted_and_noted(VrrpVersion version, string advertised, string configured)
    {
        static IPAddress[] List(string text) => [.. text.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(IPAddress.Parse)];
        var sender = Options(NodeA, version: version) with { VirtualAddresses = List(advertised) };
        var receiver = Options(NodeB, version: version) with { VirtualAddresses = List(configured) };

        var verdict = VrrpCodec.Parse(AdvertFrom(sender, 100), receiver);

        Assert.True(verdict.IsAccepted);
        Assert.Equal(AdvertisementNotes.VirtualAddressMismatch, verdict.Notes);
    }

    [Fact]
    public void Address_order_does_not_matter()
    {
        var other = IPAddress.Parse("192.168.56.201");
        var verdict = VrrpCodec.Parse(
            AdvertFrom(Sender with { VirtualAddresses = [other, Vip] }, 100),
            Receiver with { VirtualAddresses = [Vip, other] });
        Assert.Equal(AdvertisementNotes.None, verdict.Notes);
    }

    [Fact]
    public void Every_drop_reason_is_reachable_from_this_suite()
    {
        var covered = StructuralCases.Select(row => (DropReason)row[1]).ToHashSet();
        covered.UnionWith([
            DropReason.WrongVirtualRouterId, DropReason.TtlNot255, DropReason.FromOwnAddress, DropReason.SourceNotUnicastPeer,
            DropReason.AuthTypeMismatch, DropReason.AuthPasswordMismatch, DropReason.AdvertIntervalMismatch,
        ]);
        Assert.Equal(Enum.GetValues<DropReason>().Where(r => r != DropReason.None).Order(), covered.Order());
    }

    /// <summary>One named fault applied to the keepalived-style datagram; checksums are repaired where the fault is elsewhere.</summary>
    internal static byte[] Mutate(string fault)
    {
        var b = CodecTests.KeepalivedStyleV2.ToArray();
        switch (fault)
        {
            case "empty": return [];
            case "19 bytes": return b[..19];
            case "IP version 6": b[0] = 0x65; break;
            case "IHL 4": b[0] = 0x44; break;
            case "IHL beyond buffer": b[0] = 0x4F; break;
            case "total length beyond buffer": b[3] = 0x29; break;
            case "total length below IHL": b[3] = 0x10; break;
            case "more-fragments flag": b[6] = 0x20; break;
            case "fragment offset": b[7] = 0x01; break;
            case "protocol UDP": b[9] = 17; break;
            case "VRRP header truncated to 7 bytes": b[3] = 27; return b[..27];
            case "count 2 with one address": b[23] = 2; CodecTests.FixVrrpChecksum(b); break;
            case "4 extra bytes": b = [.. b, 0, 0, 0, 0]; b[3] = 44; CodecTests.FixVrrpChecksum(b); break;
            case "auth data missing": b = b[..32]; b[3] = 32; CodecTests.FixVrrpChecksum(b); break;
            case "version 1": b[20] = 0x11; CodecTests.FixVrrpChecksum(b); break;
            case "version 15": b[20] = 0xF1; break;
            case "type 2": b[20] = 0x22; CodecTests.FixVrrpChecksum(b); break;
            case "checksum off by one": b[27]++; break;
            case "address byte flipped": b[31] ^= 0x01; break;
            default: throw new ArgumentException(fault);
        }

        return b;
    }
}
