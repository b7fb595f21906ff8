using System.Net;
using VipProxy.Forwarding.Scheduling;

namespace VipProxy.Forwarding.Tests.Scheduling;

public class StableHashTests
{
    [Fact]
    public void Values_are_fixed_across_processes_and_versions()
    {
        // Changing these breaks client-to-server mapping agreement between nodes running different versions.
        Assert.Equal(GoldenEmpty, StableHash.Hash64([], 0));
        Assert.Equal(GoldenName, StableHash.Hash64("10.0.0.1:3306", 42));
    }

    [Fact]
    public void Seeds_and_inputs_change_the_hash()
    {
        Assert.NotEqual(StableHash.Hash64("a", 1), StableHash.Hash64("a", 2));
        Assert.NotEqual(StableHash.Hash64("a", 1), StableHash.Hash64("b", 1));
        Assert.Equal(StableHash.Hash64("héllo", 7), StableHash.Hash64("héllo"u8, 7));
    }

    [Theory]
    [InlineData("10.1.2.3", 32, "10.1.2.3")]
    [InlineData("10.1.2.3", 24, "10.1.2.0")]
    [InlineData("10.1.2.3", 16, "10.1.0.0")]
    [InlineData("10.1.2.3", 0, "0.0.0.0")]
    [InlineData("::ffff:10.1.2.3", 24, "10.1.2.0")]
    [InlineData("2001:db8:1:2:3:4:5:6", 128, "2001:db8:1:2:3:4:5:6")]
    [InlineData("2001:db8:1:2:3:4:5:6", 64, "2001:db8:1:2::")]
    [InlineData("2001:db8:1:2:3:4:5:6", 48, "2001:db8:1::")]
    [InlineData("2001:db8:1:2:ab03:4:5:6", 72, "2001:db8:1:2:ab00::")]
    public void Client_keys_mask_by_prefix(string address, int prefix, string expected)
    {
        ClientAddressKey key = ClientAddressKey.FromAddress(IPAddress.Parse(address));
        Assert.Equal(expected, key.Mask(Math.Min(prefix, 32), key.IsIPv4 ? 128 : prefix).ToString());
    }

    [Fact]
    public void IPv4_and_mapped_IPv6_give_the_same_key()
    {
        var v4 = IPAddress.Parse("192.0.2.7");
        Assert.Equal(ClientAddressKey.FromAddress(v4), ClientAddressKey.FromAddress(v4.MapToIPv6()));
        Assert.True(ClientAddressKey.FromAddress(v4).IsIPv4);
        Assert.False(ClientAddressKey.FromAddress(IPAddress.IPv6Loopback).IsIPv4);
    }

    private const ulong GoldenEmpty = 17280346270528514342;
    private const ulong GoldenName = 5123113994869711426;
}
