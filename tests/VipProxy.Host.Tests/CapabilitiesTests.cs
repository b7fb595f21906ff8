using VipProxy.Host.Platform;

namespace VipProxy.Host.Tests;

[Trait("Category", "Root")]
public class CapabilitiesTests
{
    [Fact]
    public void Root_in_this_test_run_has_the_network_capabilities()
    {
        ulong effective = Capabilities.ReadEffective();
        Assert.Empty(Capabilities.Missing(effective, needsVrrp: true, needsLowPorts: true));
    }

    [Theory]
    [InlineData(0UL, true, false, 2)]
    [InlineData(0UL, false, true, 1)]
    [InlineData(0UL, false, false, 0)]
    [InlineData((1UL << 12) | (1UL << 13), true, true, 1)]
    public void Missing_capabilities_are_named(ulong effective, bool vrrp, bool lowPorts, int expected)
    {
        IReadOnlyList<string> missing = Capabilities.Missing(effective, vrrp, lowPorts);
        Assert.Equal(expected, missing.Count);
        Assert.All(missing, m => Assert.StartsWith("CAP_NET_", m, StringComparison.Ordinal));
    }

    [Fact]
    public void The_file_descriptor_soft_limit_is_raised_to_the_hard_limit()
    {
        (ulong before, ulong after) = FileDescriptorLimit.RaiseToHardLimit();
        Assert.True(after >= before);
        Assert.True(after >= 1024);
    }
}
