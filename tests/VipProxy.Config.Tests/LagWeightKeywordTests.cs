using VipProxy.Config.Model;
using static VipProxy.Config.Tests.ConfigAssert;

namespace VipProxy.Config.Tests;

/// <summary>Issue 16: <c>lag_weight on|off</c> inside MYSQL_CHECK, which needs <c>max_replication_lag</c>.</summary>
public class LagWeightKeywordTests
{
    private static string File(string body) =>
        $"virtual_server 198.18.0.100 8066 {{\n protocol TCP\n real_server 198.18.1.1 3306 {{\n  MYSQL_CHECK {{\n   user u\n{body}\n  }}\n }}\n}}\n";

    private static MySqlCheck Check(string body) => (MySqlCheck)Valid(File(body)).VirtualServers.Single().RealServers.Single().Checkers.Single();

    [Fact]
    public void Off_by_default_and_read_with_max_replication_lag()
    {
        Assert.False(Check("   max_replication_lag 10").LagWeight);
        Assert.True(Check("   max_replication_lag 10\n   lag_weight on").LagWeight);
        Assert.False(Check("   max_replication_lag 10\n   lag_weight off").LagWeight);
    }

    [Fact]
    public void Without_max_replication_lag_it_is_an_error_at_the_keyword()
    {
        string error = SingleError(File("   lag_weight on"));
        Assert.StartsWith($"{ConfigPath}:6:4: error: 'lag_weight on' scales the weight by the replication lag up to 'max_replication_lag SECONDS'", error);
    }

    [Fact]
    public void The_dump_reads_back_with_lag_weight()
    {
        KeepalivedConfig config = Valid(File("   max_replication_lag 10\n   lag_weight on"));
        Assert.Equal(config.VirtualServers.Single(), Valid(ConfigDumper.Dump(config)).VirtualServers.Single());
    }
}
