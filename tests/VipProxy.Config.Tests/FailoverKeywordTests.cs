using VipProxy.Config.Model;
using static VipProxy.Config.Tests.ConfigAssert;

namespace VipProxy.Config.Tests;

/// <summary>The forwarder's keywords from #16: <c>backup</c> on a real_server, <c>tcp_keepalive</c> on a
/// virtual_server.</summary>
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
    public void Backup_takes_no_argument_but_yes_or_no()
    {
        string error = SingleError(TwoServers("  weight 1", "  backup 2"));
        Assert.StartsWith($"{ConfigPath}:7:10: error: 'backup' takes no value or one of yes, no", error); // at the extra argument
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

    [Fact]
    public void Tcp_keepalive_takes_idle_interval_and_count()
    {
        Assert.Equal(new TcpKeepalive(TimeSpan.FromSeconds(60), TimeSpan.FromSeconds(10), 5), VirtualServer("tcp_keepalive 60 10 5").TcpKeepalive);
        Assert.Null(VirtualServer("").TcpKeepalive);
    }

    [Theory]
    [InlineData("tcp_keepalive 60 10", "2:20", "tcp_keepalive IDLE_SECONDS INTERVAL_SECONDS COUNT")]
    [InlineData("tcp_keepalive 0 10 5", "2:15", "from 1 to 32767")]
    [InlineData("tcp_keepalive 60 32768 5", "2:18", "from 1 to 32767")]
    [InlineData("tcp_keepalive 60 10 128", "2:21", "from 1 to 127")]
    [InlineData("tcp_keepalive 60 1.5 5", "2:18", "whole number")]
    public void Tcp_keepalive_refuses_what_the_kernel_would(string line, string at, string message)
    {
        string error = SingleError($"virtual_server 198.18.0.100 8066 {{\n{line}\n protocol TCP\n}}\n");
        Assert.StartsWith($"{ConfigPath}:{at}: error: ", error);
        Assert.Contains(message, error, StringComparison.Ordinal);
    }

    [Fact]
    public void The_dump_reads_back_with_tcp_keepalive()
    {
        KeepalivedConfig config = Valid("virtual_server 198.18.0.100 8066 {\n protocol TCP\n tcp_keepalive 300 15 3\n}\n");
        Assert.Equal(config.VirtualServers.Single().TcpKeepalive, Valid(ConfigDumper.Dump(config)).VirtualServers.Single().TcpKeepalive);
    }
}
