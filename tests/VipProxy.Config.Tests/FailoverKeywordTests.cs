using VipProxy.Config.Model;
using static VipProxy.Config.Tests.ConfigAssert;

namespace VipProxy.Config.Tests;

/// <summary>The forwarder's failover keywords from #16: <c>backup</c> on a real_server.</summary>
public class FailoverKeywordTests
{
    private static string TwoServers(string first, string second) =>
        "virtual_server 198.18.0.100 3306 {\n"
        + " protocol TCP\n"
        + $" real_server 198.18.1.1 3306 {{\n{first}\n }}\n"
        + $" real_server 198.18.1.2 3306 {{\n{second}\n }}\n"
        + "}\n";

    [Fact]
    public void Backup_marks_only_the_server_it_is_written_in()
    {
        VirtualServer virtualServer = Valid(TwoServers("  weight 2", "  backup")).VirtualServers.Single();
        Assert.Equal([false, true], virtualServer.RealServers.Select(r => r.Backup));
        Assert.False(RealServer("weight 1").Backup);
    }

    [Fact]
    public void Backup_takes_no_argument()
    {
        string error = SingleError(TwoServers("  weight 1", "  backup yes"));
        Assert.StartsWith($"{ConfigPath}:7:10: error: 'backup'", error); // at the extra argument
    }

    [Fact]
    public void Every_server_backup_is_a_warning_at_the_virtual_server()
    {
        List<string> warnings = Warnings(TwoServers("  backup", "  backup"));
        string warning = Assert.Single(warnings, w => w.Contains("is 'backup'", StringComparison.Ordinal));
        Assert.StartsWith($"{ConfigPath}:1:1: warning: every real_server of virtual_server 198.18.0.100 3306 is 'backup'", warning);

        Assert.DoesNotContain(Warnings(TwoServers("  weight 1", "  backup")), w => w.Contains("is 'backup'", StringComparison.Ordinal));
    }

    [Fact]
    public void The_dump_reads_back_with_backup()
    {
        KeepalivedConfig config = Valid(TwoServers("  weight 3", "  backup\n  weight 2"));
        KeepalivedConfig again = Valid(ConfigDumper.Dump(config));
        Assert.Equal(config.VirtualServers.Single().RealServers, again.VirtualServers.Single().RealServers);
        Assert.True(again.VirtualServers.Single().RealServers[1].Backup);
    }
}
