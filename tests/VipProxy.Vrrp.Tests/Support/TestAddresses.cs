using System.Net;
using VipProxy.Vrrp.Protocol;

namespace VipProxy.Vrrp.Tests.Support;

internal static class TestAddresses
{
    public static readonly IPAddress NodeA = IPAddress.Parse("192.168.56.11");
    public static readonly IPAddress NodeB = IPAddress.Parse("192.168.56.12");
    public static readonly IPAddress NodeC = IPAddress.Parse("192.168.56.13");
    public static readonly IPAddress Vip = IPAddress.Parse("192.168.56.200");
    public static readonly IPAddress Multicast = VrrpCodec.MulticastGroup;

    /// <summary>keepalived-like defaults: vrid 51, v2, advert 1 s, PASS "1111", one VIP.</summary>
    public static VrrpInstanceOptions Options(IPAddress primary, byte priority = 100, VrrpVersion version = VrrpVersion.V2) =>
        new()
        {
            Name = "VI_1",
            Version = version,
            VirtualRouterId = 51,
            Priority = priority,
            PrimaryAddress = primary,
            VirtualAddresses = [Vip],
            AuthType = version == VrrpVersion.V2 ? VrrpAuthType.SimplePassword : VrrpAuthType.None,
            AuthPassword = version == VrrpVersion.V2 ? "1111" : null,
        };

    /// <summary>The full IPv4 datagram of an advert <paramref name="sender"/>'s options would produce.</summary>
    public static byte[] AdvertFrom(VrrpInstanceOptions sender, byte priority, byte ttl = 255, IPAddress? destination = null) =>
        VrrpCodec.EncodeIPv4DatagramToArray(VrrpPacket.ForInstance(sender, priority), sender.PrimaryAddress, destination ?? Multicast, ttl);
}
