using System.Net;
using CsCheck;
using VipProxy.Vrrp.Protocol;
using static VipProxy.Vrrp.Tests.Support.TestAddresses;

namespace VipProxy.Vrrp.Tests;

/// <summary>Hostile-input properties: no byte sequence makes the parser throw, and valid adverts always round-trip.</summary>
public sealed class CodecPropertyTests
{
    private const long Iterations = 100_000;
    private static readonly VrrpInstanceOptions ReceiverV2 = Options(NodeB, priority: 90);
    private static readonly VrrpInstanceOptions ReceiverV3 = Options(NodeB, priority: 90, version: VrrpVersion.V3);

    [Fact]
    public void Random_bytes_always_yield_a_verdict()
    {
        Gen.Byte.Array[0, 120].Sample(bytes => AssertVerdict(bytes), iter: Iterations);
    }

    [Fact]
    public void Random_payload_behind_a_plausible_vrrp_ip_header_always_yields_a_verdict()
    {
        // Gets past the IP checks so the VRRP parsing itself is exercised with junk.
        Gen.Select(Gen.Byte.Array[0, 80], Gen.Byte, Gen.Byte).Sample((payload, versionType, count) =>
        {
            var datagram = new byte[20 + payload.Length];
            datagram[0] = 0x45;
            datagram[2] = (byte)(datagram.Length >> 8);
            datagram[3] = (byte)datagram.Length;
            datagram[8] = 255;
            datagram[9] = 112;
            payload.CopyTo(datagram, 20);
            if (payload.Length > 3)
            {
                datagram[20] = (byte)((versionType & 0x30) | 0x01 | (versionType & 0x02));
                datagram[23] = (byte)(count % 4);
            }

            AssertVerdict(datagram);
        }, iter: Iterations);
    }

    [Fact]
    public void Truncations_and_bit_flips_of_a_valid_advert_always_yield_a_verdict()
    {
        var valid = AdvertFrom(Options(NodeA), 100);
        var validV3 = AdvertFrom(Options(NodeA, version: VrrpVersion.V3), 100);
        Gen.Select(Gen.Bool, Gen.Int[0, 40], Gen.Int[0, 8 * 40 - 1].Array[1, 6]).Sample((v3, length, flips) =>
        {
            var source = v3 ? validV3 : valid;
            var bytes = source[..Math.Min(length, source.Length)];
            foreach (int bit in flips)
            {
                if (bit / 8 < bytes.Length)
                {
                    bytes[bit / 8] ^= (byte)(1 << (bit % 8));
                }
            }

            AssertVerdict(bytes);
        }, iter: Iterations);
    }

    [Fact]
    public void Any_single_bit_flip_in_the_vrrp_message_is_never_accepted_as_sent()
    {
        // One's-complement sums detect every single-bit error (RFC 1071), so a flipped advert never passes as itself.
        var valid = AdvertFrom(Options(NodeA), 100);
        var validV3 = AdvertFrom(Options(NodeA, version: VrrpVersion.V3), 100);
        foreach (var source in new[] { valid, validV3 })
        {
            for (int bit = 20 * 8; bit < source.Length * 8; bit++)
            {
                var bytes = source.ToArray();
                bytes[bit / 8] ^= (byte)(1 << (bit % 8));
                Assert.False(VrrpCodec.Decode(bytes).IsAccepted, $"bit {bit}");
            }
        }
    }

    [Fact]
    public void Valid_packets_round_trip()
    {
        var genAddress = Gen.UInt.Select(u => new IPAddress(BitConverter.GetBytes(u)));
        var genPacket =
            from v3 in Gen.Bool
            from vrid in Gen.Byte[1, 255]
            from priority in Gen.Byte
            from units in v3 ? Gen.Int[1, 4095] : Gen.Int[1, 255]
            from addresses in genAddress.Array[0, 20]
            from password in Gen.Byte.Array[8]
            from source in genAddress
            from destination in genAddress
            select (Packet: new VrrpPacket
            {
                Version = v3 ? VrrpVersion.V3 : VrrpVersion.V2,
                VirtualRouterId = vrid,
                Priority = priority,
                AdvertisementInterval = v3 ? TimeSpan.FromMilliseconds(10 * units) : TimeSpan.FromSeconds(units),
                Addresses = [.. addresses],
                AuthType = v3 ? VrrpAuthType.None : VrrpAuthType.SimplePassword,
                AuthData = v3 ? [] : [.. password],
            }, Source: source, Destination: destination);

        genPacket.Sample(sample =>
        {
            var bytes = VrrpCodec.EncodeIPv4DatagramToArray(sample.Packet, sample.Source, sample.Destination);
            var verdict = VrrpCodec.Decode(bytes);
            Assert.True(verdict.IsAccepted, verdict.ToString());
            var decoded = verdict.Advertisement!;
            Assert.Equal(sample.Source, decoded.Source);
            Assert.Equal(sample.Destination, decoded.Destination);
            var packet = decoded.Packet;
            Assert.Equal(sample.Packet.Version, packet.Version);
            Assert.Equal(sample.Packet.VirtualRouterId, packet.VirtualRouterId);
            Assert.Equal(sample.Packet.Priority, packet.Priority);
            Assert.Equal(sample.Packet.AdvertisementInterval, packet.AdvertisementInterval);
            Assert.Equal<IPAddress>(sample.Packet.Addresses, packet.Addresses);
            Assert.Equal(sample.Packet.AuthType, packet.AuthType);
            Assert.Equal<byte>(sample.Packet.AuthData, packet.AuthData);
        }, iter: Iterations / 4);
    }

    [Fact]
    public void Adverts_from_a_matching_peer_are_accepted_at_every_priority()
    {
        Gen.Select(Gen.Bool, Gen.Byte).Sample((v3, priority) =>
        {
            var sender = Options(NodeA, version: v3 ? VrrpVersion.V3 : VrrpVersion.V2);
            var verdict = VrrpCodec.Parse(AdvertFrom(sender, priority), v3 ? ReceiverV3 : ReceiverV2);
            Assert.True(verdict.IsAccepted, verdict.ToString());
            Assert.Equal(AdvertisementNotes.None, verdict.Notes);
        }, iter: 10_000);
    }

    private static void AssertVerdict(byte[] bytes)
    {
        foreach (var verdict in new[] { VrrpCodec.Decode(bytes), VrrpCodec.Parse(bytes, ReceiverV2), VrrpCodec.Parse(bytes, ReceiverV3) })
        {
            Assert.True(verdict.IsAccepted ^ (verdict.DropReason != DropReason.None), verdict.ToString());
        }
    }
}
