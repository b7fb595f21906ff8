using VipProxy.Config.Model;
using static VipProxy.Config.Tests.ConfigAssert;

namespace VipProxy.Config.Tests;

/// <summary>Issue 16: MYSQL_CHECK's role keywords, their defaults and their mistakes (with file:line:col).</summary>
public class MySqlRoleKeywordTests
{
    private static MySqlCheck Check(string body) =>
        (MySqlCheck)RealServer($" MYSQL_CHECK {{\n  user u\n  password p\n{body}\n }}").Checkers.Single();

    /// <summary>A whole file whose MYSQL_CHECK body starts on line 5.</summary>
    private static string File(string body) =>
        $"virtual_server 198.18.0.100 8066 {{\n protocol TCP\n real_server 198.18.1.1 3306 {{\n  MYSQL_CHECK {{\n{body}\n  }}\n }}\n}}\n";

    [Fact]
    public void Without_role_keywords_the_check_is_todays_ping()
    {
        MySqlCheck check = Check("");

        Assert.Equal((MySqlRole.Any, null, false, false, null, null, null),
            (check.Role, check.MaxReplicationLag, check.Galera, check.GaleraDonorOk, check.Query, check.Expect, check.ExpectRegex));
        Assert.True(check.IsPingOnly);
    }

    [Theory]
    [InlineData("role primary", MySqlRole.Primary)]
    [InlineData("role replica", MySqlRole.Replica)]
    [InlineData("role any", MySqlRole.Any)]
    [InlineData("role PRIMARY", MySqlRole.Primary)]
    public void Role(string line, MySqlRole role) => Assert.Equal(role, Check(line).Role);

    [Fact]
    public void All_keywords_together()
    {
        MySqlCheck check = Check("  role replica\n  max_replication_lag 10\n  galera on\n  galera_donor_ok on\n  query \"SELECT COUNT(*) FROM t\"\n  expect_regex \"^[1-9]\"");

        Assert.Equal((MySqlRole.Replica, 10, true, true, "SELECT COUNT(*) FROM t", null, "^[1-9]"),
            (check.Role, check.MaxReplicationLag, check.Galera, check.GaleraDonorOk, check.Query, check.Expect, check.ExpectRegex));
        Assert.False(check.IsPingOnly);
    }

    [Fact]
    public void Query_with_exact_expect() =>
        Assert.Equal(("SELECT 'ok'", "ok"), (Check("  query \"SELECT 'ok'\"\n  expect \"ok\"").Query, Check("  query \"SELECT 'ok'\"\n  expect \"ok\"").Expect));

    [Fact]
    public void Query_text_keeps_comment_characters_and_quotes_inside_its_double_quotes() =>
        Assert.Equal("SELECT 'a#b' FROM t WHERE c != 1 AND d = \"x\"",
            Check("  query \"SELECT 'a#b' FROM t WHERE c != 1 AND d = \\\"x\\\"\"").Query);

    [Theory]
    [InlineData("   user u\n   expect \"1\"", "6:4", "'expect' and 'expect_regex' compare the result of 'query \"SQL\"', but this MYSQL_CHECK has no 'query'")]
    [InlineData("   user u\n   expect_regex \"1\"", "6:4", "has no 'query'")]
    [InlineData("   user u\n   query \"SELECT 1\"\n   expect 1\n   expect_regex 1", "8:4", "give either 'expect' or 'expect_regex', not both")]
    [InlineData("   user u\n   query \"SELECT 1\"\n   expect_regex \"(\"", "7:17", "'expect_regex' is not a valid regular expression")]
    [InlineData("   user u\n   role master", "6:9", "'role' expects one of primary, replica, any, not 'master'")]
    [InlineData("   user u\n   max_replication_lag -1", "6:24", "'max_replication_lag' -1 is out of range")]
    [InlineData("   user u\n   max_replication_lag ten", "6:24", "'max_replication_lag' expects a whole number")]
    [InlineData("   user u\n   galera yes", "6:11", "'galera' expects one of on, off, not 'yes'")]
    [InlineData("   user u\n   query \"\"", "6:10", "'query' is empty")]
    [InlineData("   role primary", "5:4", "this MYSQL_CHECK keyword runs a query, which needs a login: give the check 'user' and 'password'")]
    public void Mistakes_are_errors_at_their_place(string body, string at, string message)
    {
        List<string> errors = Errors(File(body));
        string error = errors.FirstOrDefault(e => e.Contains(message, StringComparison.Ordinal)) ?? string.Join('\n', errors);
        Assert.StartsWith($"{ConfigPath}:{at}: error: ", error);
    }

    [Theory]
    [InlineData("TCP_CHECK", "role primary")]
    [InlineData("HTTP_GET", "query \"SELECT 1\"")]
    [InlineData("TCP_CHECK", "max_replication_lag 5")]
    public void Role_keywords_outside_MYSQL_CHECK_are_unknown(string checker, string line)
    {
        string text = $"virtual_server 198.18.0.100 8066 {{\n protocol TCP\n real_server 198.18.1.1 3306 {{\n  {checker} {{\n   {line}\n  }}\n }}\n}}\n";
        List<string> errors = Errors(text);
        string keyword = line.Split(' ')[0];
        string error = errors.FirstOrDefault(e => e.Contains($"'{keyword}'", StringComparison.Ordinal)) ?? string.Join('\n', errors);
        Assert.StartsWith($"{ConfigPath}:5:4: error: '{keyword}' does not belong in {checker}; it is a keyword of MYSQL_CHECK", error);
    }

    [Fact]
    public void Donor_ok_without_galera_is_a_warning() =>
        Assert.Contains(Warnings(File("   user u\n   password p\n   galera_donor_ok on")),
            w => w.StartsWith($"{ConfigPath}:7:4: warning: 'galera_donor_ok on' has no effect without 'galera on'", StringComparison.Ordinal));

    [Fact]
    public void The_dump_reads_back_to_the_same_check()
    {
        KeepalivedConfig config = Valid(File("   user u\n   password p\n   role primary\n   max_replication_lag 7\n   galera on\n   query \"SELECT \\\"x\\\"\"\n   expect \"x\""));
        string dumped = ConfigDumper.Dump(config);
        KeepalivedConfig again = Valid(dumped);

        Assert.Equal(config.VirtualServers.Single().RealServers.Single().Checkers.Single(),
            again.VirtualServers.Single().RealServers.Single().Checkers.Single());
    }

    [Fact]
    public void Rise_defaults_to_1_is_set_on_a_checker_and_inherited_from_the_virtual_server()
    {
        Assert.Equal(1, RealServer(" TCP_CHECK {\n }").Checkers.Single().Settings.Rise);
        Assert.Equal(3, RealServer(" TCP_CHECK {\n  rise 3\n }").Checkers.Single().Settings.Rise);
        VirtualServer vs = VirtualServer("rise 2\nreal_server 198.18.1.1 3306 {\n MYSQL_CHECK {\n  user u\n  password p\n }\n MISC_CHECK {\n  misc_path /bin/true\n  rise 4\n }\n}");
        Assert.Equal([2, 4], vs.RealServers.Single().Checkers.Select(c => c.Settings.Rise));
    }

    [Theory]
    [InlineData("   rise 0", "5:9", "'rise' 0 is out of range: it must be from 1 to 1000")]
    [InlineData("   rise", "5:8", "'rise' is missing its value")]
    public void Rise_mistakes(string body, string at, string message)
    {
        List<string> errors = Errors(File(body));
        string error = errors.FirstOrDefault(e => e.Contains(message, StringComparison.Ordinal)) ?? string.Join('\n', errors);
        Assert.StartsWith($"{ConfigPath}:{at}: error: ", error);
    }

    [Fact]
    public void Rise_survives_the_dump()
    {
        KeepalivedConfig config = Valid(File("   user u\n   password p\n   rise 5"));
        KeepalivedConfig again = Valid(ConfigDumper.Dump(config));

        Assert.Equal(5, again.VirtualServers.Single().RealServers.Single().Checkers.Single().Settings.Rise);
    }
}
