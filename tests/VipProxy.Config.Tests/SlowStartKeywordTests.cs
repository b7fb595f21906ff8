using VipProxy.Config.Model;
using static VipProxy.Config.Tests.ConfigAssert;

namespace VipProxy.Config.Tests;

/// <summary>Issue 16: <c>slowstart SECS</c> on a real_server (HAProxy's slowstart).</summary>
public class SlowStartKeywordTests
{
    [Fact]
    public void Off_by_default_seconds_when_given_and_0_means_off()
    {
        Assert.Null(RealServer("weight 1").SlowStart);
        Assert.Equal(TimeSpan.FromSeconds(30), RealServer("slowstart 30").SlowStart);
        Assert.Equal(TimeSpan.FromSeconds(2.5), RealServer("slowstart 2.5").SlowStart);
        Assert.Null(RealServer("slowstart 0").SlowStart);
    }

    [Theory]
    [InlineData("slowstart -1")]
    [InlineData("slowstart soon")]
    [InlineData("slowstart")]
    public void Bad_values_are_errors(string line) =>
        Assert.Contains("'slowstart'", SingleError($"virtual_server 198.18.0.100 80 {{\n protocol TCP\n real_server 198.18.1.1 80 {{\n  {line}\n }}\n}}\n"), StringComparison.Ordinal);

    [Fact]
    public void The_dump_reads_back_with_slowstart()
    {
        KeepalivedConfig config = Valid("virtual_server 198.18.0.100 80 {\n protocol TCP\n real_server 198.18.1.1 80 {\n  slowstart 12.5\n }\n}\n");
        Assert.Equal(config.VirtualServers.Single(), Valid(ConfigDumper.Dump(config)).VirtualServers.Single());
    }
}
