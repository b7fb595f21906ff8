using VipProxy.Config.Model;
using static VipProxy.Config.Tests.ConfigAssert;

namespace VipProxy.Config.Tests;

/// <summary>Issue 16: <c>shutdown_sessions_on_down [GRACE]</c> on a virtual_server (inherited) or a real_server.</summary>
public class ShutdownSessionsKeywordTests
{
    private static VirtualServer Pool(string virtualServerLine, string firstServerLine = "") => Valid(
        "virtual_server 198.18.0.100 3306 {\n protocol TCP\n"
        + $" {virtualServerLine}\n"
        + $" real_server 198.18.1.1 3306 {{\n  {firstServerLine}\n }}\n"
        + " real_server 198.18.1.2 3306 {\n }\n"
        + "}\n").VirtualServers.Single();

    [Fact]
    public void Off_by_default_bare_means_at_once_and_real_servers_inherit_or_override()
    {
        Assert.All(Pool("").RealServers, r => Assert.Null(r.ShutdownSessionsOnDown));
        Assert.All(Pool("shutdown_sessions_on_down").RealServers, r => Assert.Equal(TimeSpan.Zero, r.ShutdownSessionsOnDown));
        VirtualServer mixed = Pool("shutdown_sessions_on_down 5", "shutdown_sessions_on_down 0.5");
        Assert.Equal([TimeSpan.FromSeconds(0.5), TimeSpan.FromSeconds(5)], mixed.RealServers.Select(r => r.ShutdownSessionsOnDown));
        Assert.Equal([TimeSpan.FromSeconds(2), null], Pool("", "shutdown_sessions_on_down 2").RealServers.Select(r => r.ShutdownSessionsOnDown));
    }

    [Theory]
    [InlineData("shutdown_sessions_on_down -1")]
    [InlineData("shutdown_sessions_on_down soon")]
    [InlineData("shutdown_sessions_on_down 1 2")]
    public void Bad_values_are_errors(string line) =>
        Assert.Contains("'shutdown_sessions_on_down'", SingleError($"virtual_server 198.18.0.100 80 {{\n protocol TCP\n {line}\n real_server 198.18.1.1 80 {{\n }}\n}}\n"), StringComparison.Ordinal);

    [Fact]
    public void The_dump_reads_back_with_the_grace()
    {
        KeepalivedConfig config = Valid("virtual_server 198.18.0.100 80 {\n protocol TCP\n shutdown_sessions_on_down 3\n real_server 198.18.1.1 80 {\n }\n}\n");
        Assert.Equal(config.VirtualServers.Single(), Valid(ConfigDumper.Dump(config)).VirtualServers.Single());
    }
}
