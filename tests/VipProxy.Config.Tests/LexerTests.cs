using VipProxy.Config.Diagnostics;
using VipProxy.Config.Syntax;
using static VipProxy.Config.Tests.ConfigAssert;

namespace VipProxy.Config.Tests;

public class LexerTests
{
    private static List<string> Words(string text, string? nodeId = null, InMemoryFiles? files = null)
    {
        var diagnostics = new DiagnosticBag();
        var lexer = new ConfigLexer(files ?? InMemoryFiles.Of(), new LexerOptions(nodeId), diagnostics);
        IReadOnlyList<Token> tokens = lexer.LexText(ConfigPath, text);
        Assert.False(diagnostics.HasErrors, string.Join('\n', diagnostics.Items));
        return tokens.Select(t => t.Kind == TokenKind.EndOfLine ? "⏎" : t.Text).ToList();
    }

    [Theory]
    [InlineData("a b # comment", "a b ⏎")]
    [InlineData("a b ! comment", "a b ⏎")]
    [InlineData("# whole line", "")]
    [InlineData("! whole line", "")]
    [InlineData("a \"b # not a comment\" c", "a b # not a comment c ⏎")]
    [InlineData(@"a b\#c", "a b#c ⏎")]
    [InlineData("virtual_server 1.2.3.4 8066{", "virtual_server 1.2.3.4 8066 { ⏎")]
    [InlineData("}}", "} } ⏎")]
    [InlineData("a{b}c", "a { b } c ⏎")]
    [InlineData("\tweight\t2\t", "weight 2 ⏎")]
    [InlineData("script \"/bin/check 'x y'\"", "script /bin/check 'x y' ⏎")]
    [InlineData("a \"say \\\"hi\\\"\"", "a say \"hi\" ⏎")]
    public void Splits_lines_like_keepalived(string line, string expected) =>
        Assert.Equal(expected, string.Join(' ', Words(line)));

    [Fact]
    public void Columns_point_at_the_original_text()
    {
        var diagnostics = new DiagnosticBag();
        var tokens = new ConfigLexer(InMemoryFiles.Of(), new LexerOptions(null), diagnostics)
            .LexText(ConfigPath, "\tpriority  100 # c\n  virtual_server 1.2.3.4 80{");
        Assert.Equal(new SourceLocation(ConfigPath, 1, 2), tokens[0].Location);
        Assert.Equal(new SourceLocation(ConfigPath, 1, 12), tokens[1].Location);
        Token brace = tokens.Single(t => t.Kind == TokenKind.OpenBrace);
        Assert.Equal(new SourceLocation(ConfigPath, 2, 28), brace.Location);
    }

    [Fact]
    public void Definitions_substitute_bare_and_braced_references()
    {
        string text = "$IF=eth1\n$PRIO=150\ninterface $IF\npriority ${PRIO}\nlabel ${IF}:vip";
        Assert.Equal("interface eth1 ⏎ priority 150 ⏎ label eth1:vip ⏎", string.Join(' ', Words(text)));
    }

    [Fact]
    public void A_bare_reference_needs_whitespace_after_it()
    {
        // keepalived substitutes $NAME only when whitespace or the line end follows it.
        Assert.Equal("label $IF:vip ⏎", string.Join(' ', Words("$IF=eth1\nlabel $IF:vip")));
    }

    [Fact]
    public void Multi_line_definitions_expand_to_several_lines()
    {
        string text = "$RS=real_server 1.1.1.1 80 { \\\n  weight 2 \\\n}\n$RS";
        Assert.Equal("real_server 1.1.1.1 80 { ⏎ weight 2 ⏎ } ⏎", string.Join(' ', Words(text)));
    }

    [Theory]
    [InlineData("lb1", "priority 100 ⏎")]
    [InlineData("lb2", "priority 90 ⏎")]
    [InlineData(null, "priority 90 ⏎")]
    public void Line_conditionals_select_by_node_id(string? nodeId, string expected)
    {
        string text = "@lb1 priority 100\n@^lb1 priority 90";
        Assert.Equal(expected, string.Join(' ', Words(text, nodeId)));
    }

    [Fact]
    public void Includes_resolve_globs_relative_to_the_including_file_in_order()
    {
        var files = InMemoryFiles.Of(
            ("/etc/vipproxy/conf.d/20-b.conf", "b 2"),
            ("/etc/vipproxy/conf.d/10-a.conf", "a 1\ninclude ../more/x.conf"),
            ("/etc/vipproxy/conf.d/notes.txt", "ignored"),
            ("/etc/vipproxy/more/x.conf", "x 3"));
        Assert.Equal("first ⏎ a 1 ⏎ x 3 ⏎ b 2 ⏎ last ⏎", string.Join(' ', Words("first\ninclude conf.d/*.conf\nlast", files: files)));
    }

    [Fact]
    public void Tokens_from_an_included_file_carry_its_name()
    {
        var files = InMemoryFiles.Of(("/etc/vipproxy/inc.conf", "\n  bogus_keyword 1\n"));
        string error = Errors("include inc.conf", files: files).Single();
        Assert.StartsWith("/etc/vipproxy/inc.conf:2:3: error: unknown keyword 'bogus_keyword'", error);
    }

    [Fact]
    public void An_empty_glob_is_fine_but_a_missing_named_file_is_an_error()
    {
        Valid("include conf.d/*.conf\n" + MinimalInstance, files: InMemoryFiles.Of());
        string error = Errors("include missing.conf\n" + MinimalInstance, files: InMemoryFiles.Of()).Single();
        Assert.StartsWith($"{ConfigPath}:1:9: error: included file '/etc/vipproxy/missing.conf' does not exist", error);
    }

    [Fact]
    public void An_include_loop_is_reported()
    {
        var files = InMemoryFiles.Of(("/etc/vipproxy/a.conf", "include b.conf"), ("/etc/vipproxy/b.conf", "include a.conf"));
        Assert.Contains(Errors("include a.conf", files: files), e => e.Contains("includes itself", StringComparison.Ordinal));
    }

    [Fact]
    public void An_unterminated_quote_is_an_error_at_the_quote() =>
        Assert.Contains(Errors("vrrp_script chk {\n  script \"/bin/x\n}\n"), e => e.StartsWith($"{ConfigPath}:2:10: error: unterminated quoted string", StringComparison.Ordinal));
}
