using System.Net;
using Microsoft.Extensions.Time.Testing;
using VipProxy.Vrrp.Protocol;
using static VipProxy.Vrrp.Tests.Support.TestAddresses;

namespace VipProxy.Vrrp.Tests;

public sealed class OptionsTests
{
    [Fact]
    public void Keepalived_defaults()
    {
        var options = new VrrpInstanceOptions { VirtualRouterId = 51, PrimaryAddress = NodeA };
        Assert.Equal(VrrpVersion.V2, options.Version);
        Assert.Equal(100, options.Priority);
        Assert.Equal(TimeSpan.FromSeconds(1), options.AdvertisementInterval);
        Assert.True(options.Preempt);
        Assert.Equal(TimeSpan.Zero, options.PreemptDelay);
        Assert.Equal(5, options.GarpMasterRepeat);
        Assert.Equal(TimeSpan.FromSeconds(5), options.GarpMasterDelay);
        Assert.Equal(TimeSpan.Zero, options.GarpMasterRefresh);
        Assert.Equal(1, options.GarpMasterRefreshRepeat);
        Assert.True(options.CheckTtl);
        Assert.Empty(options.Validate());
    }

    public static TheoryData<string, VrrpInstanceOptions> Invalid => new()
    {
        { "vrid 0", Options(NodeA) with { VirtualRouterId = 0 } },
        { "priority 0", Options(NodeA) with { Priority = 0 } },
        { "v2 fractional interval", Options(NodeA) with { AdvertisementInterval = TimeSpan.FromMilliseconds(1500) } },
        { "v2 interval 256 s", Options(NodeA) with { AdvertisementInterval = TimeSpan.FromSeconds(256) } },
        { "v3 interval 5 ms", Options(NodeA, version: VrrpVersion.V3) with { AdvertisementInterval = TimeSpan.FromMilliseconds(5) } },
        { "v3 interval 15 ms", Options(NodeA, version: VrrpVersion.V3) with { AdvertisementInterval = TimeSpan.FromMilliseconds(15) } },
        { "v3 interval 41 s", Options(NodeA, version: VrrpVersion.V3) with { AdvertisementInterval = TimeSpan.FromSeconds(41) } },
        { "v3 with PASS", Options(NodeA, version: VrrpVersion.V3) with { AuthType = VrrpAuthType.SimplePassword, AuthPassword = "x" } },
        { "PASS without password", Options(NodeA) with { AuthPassword = "" } },
        { "AH", Options(NodeA) with { AuthType = VrrpAuthType.IPAuthenticationHeader } },
        { "IPv6 primary", Options(NodeA) with { PrimaryAddress = IPAddress.IPv6Loopback } },
        { "IPv6 VIP", Options(NodeA) with { VirtualAddresses = [IPAddress.IPv6Loopback] } },
        { "IPv6 peer", Options(NodeA) with { UnicastPeers = [IPAddress.IPv6Loopback] } },
        { "256 VIPs", Options(NodeA) with { VirtualAddresses = [.. Enumerable.Repeat(Vip, 256)] } },
        { "preempt_delay 1001 s", Options(NodeA) with { PreemptDelay = TimeSpan.FromSeconds(1001) } },
        { "negative garp repeat", Options(NodeA) with { GarpMasterRepeat = -1 } },
        { "negative garp delay", Options(NodeA) with { GarpMasterDelay = TimeSpan.FromSeconds(-1) } },
    };

    [Theory]
    [MemberData(nameof(Invalid))]
    public void Invalid_options_are_reported_and_refused_by_the_state_machine(string why, VrrpInstanceOptions options)
    {
        Assert.NotEmpty(options.Validate());
        var error = Assert.Throws<ArgumentException>(() => new VrrpStateMachine(options, new FakeTimeProvider()));
        Assert.Contains("VI_1", error.Message, StringComparison.Ordinal);
        Assert.False(string.IsNullOrEmpty(why));
    }

    [Fact]
    public void Password_bytes_follow_with_expressions()
    {
        var options = Options(NodeA) with { AuthPassword = "abc" };
        Assert.Equal("abc\0\0\0\0\0"u8.ToArray(), options.AuthPasswordBytes.ToArray());
        Assert.Equal("1111\0\0\0\0"u8.ToArray(), (options with { AuthPassword = "1111" }).AuthPasswordBytes.ToArray());
    }
}
