using VipProxy.Config.Model;
using static VipProxy.Config.Tests.ConfigAssert;

namespace VipProxy.Config.Tests;

/// <summary>Issue 16: <c>writer_conflict refuse|first</c> on a virtual_server whose servers are checked by
/// <c>MYSQL_CHECK { role primary }</c>.</summary>
public class WriterConflictKeywordTests
{
    private static string WriterPool(string virtualServerLine, string role = "role primary") =>
        "virtual_server 198.18.0.100 3306 {\n"
        + " protocol TCP\n"
        + $" {virtualServerLine}\n"
        + $" real_server 198.18.1.1 3306 {{\n  MYSQL_CHECK {{\n   user monitor\n   {role}\n  }}\n }}\n"
        + $" real_server 198.18.1.2 3306 {{\n  MYSQL_CHECK {{\n   user monitor\n   {role}\n  }}\n }}\n"
        + "}\n";

    [Fact]
    public void Refuse_is_the_default_and_first_is_read()
    {
        Assert.Equal(WriterConflictPolicy.Refuse, Valid(WriterPool("")).VirtualServers.Single().WriterConflict);
        Assert.Equal(WriterConflictPolicy.Refuse, Valid(WriterPool("writer_conflict refuse")).VirtualServers.Single().WriterConflict);
        Assert.Equal(WriterConflictPolicy.First, Valid(WriterPool("writer_conflict first")).VirtualServers.Single().WriterConflict);
    }

    [Theory]
    [InlineData("writer_conflict both", "3:18: error: 'writer_conflict' expects refuse or first, not 'both'")]
    [InlineData("writer_conflict", "3:17: error: 'writer_conflict'")]
    [InlineData("writer_conflict first refuse", "3:2")]
    public void Bad_values_are_errors_at_their_place(string line, string expected)
    {
        string error = SingleError(WriterPool(line));
        Assert.StartsWith($"{ConfigPath}:{expected}", error);
    }

    [Fact]
    public void Without_a_role_primary_check_it_is_a_warning()
    {
        string warning = Assert.Single(Warnings(WriterPool("writer_conflict first", "role replica")), w => w.Contains("writer_conflict", StringComparison.Ordinal));
        Assert.StartsWith($"{ConfigPath}:3:2: warning: 'writer_conflict' on virtual_server 198.18.0.100 3306 has no effect", warning);
        Assert.DoesNotContain(Warnings(WriterPool("writer_conflict first")), w => w.Contains("writer_conflict", StringComparison.Ordinal));
    }

    [Fact]
    public void The_dump_reads_back_with_writer_conflict()
    {
        KeepalivedConfig config = Valid(WriterPool("writer_conflict first"));
        KeepalivedConfig again = Valid(ConfigDumper.Dump(config));
        Assert.Equal(config.VirtualServers.Single(), again.VirtualServers.Single());
    }
}
