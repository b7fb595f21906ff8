using static VipProxy.Config.Tests.ConfigAssert;

namespace VipProxy.Config.Tests;

/// <summary>Each class of mistake gives one precise error at the right place; nothing is silently ignored.</summary>
public class ErrorTests
{
    [Theory]
    [InlineData("vrrp_instance VI_1 {\n  priorty 100\n}", "2:3", "unknown keyword 'priorty' in vrrp_instance; did you mean 'priority'?")]
    [InlineData("vrrp_instance VI_1 {\n  virtual_ipaddres {\n    1.2.3.4\n  }\n}", "2:3", "did you mean 'virtual_ipaddress'? (its whole block is skipped)")]
    [InlineData("virtual_server 198.18.0.1 80 {\n  persistence timeout 50\n}", "2:3", "unknown keyword 'persistence' in virtual_server; did you mean 'persistence_timeout'?")]
    [InlineData("virtual_server 198.18.0.1 80 {\n  lb_algo RR\n}", "2:11", "")]
    [InlineData("virtual_server 198.18.0.1 80 {\n  advert_int 1\n}", "2:3", "'advert_int' does not belong in virtual_server; it is a keyword of vrrp_instance")]
    [InlineData("global_defs {\n  frobnicate\n}", "2:3", "unknown keyword 'frobnicate' in global_defs")]
    [InlineData("global_defs {\n  state_file state.json\n}", "2:14", "state_file state.json must be an absolute path")]
    public void Unknown_keywords(string text, string at, string message)
    {
        if (message.Length == 0)
        {
            // Values are case-insensitive as in keepalived: this is not an error.
            Valid(text.Replace("{\n  lb_algo RR", "{\n protocol TCP\n  lb_algo RR", StringComparison.Ordinal));
            return;
        }

        string error = Errors(text).First(e => e.Contains("error: ", StringComparison.Ordinal) && e.Contains(message, StringComparison.Ordinal));
        Assert.StartsWith($"{ConfigPath}:{at}: error: ", error);
    }

    [Fact]
    public void A_misspelled_block_does_not_shift_later_lines_into_the_wrong_block()
    {
        // keepalived lets the misspelled block's '}' close vrrp_instance, so 'priority' lands at the top level.
        string text = "vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 51\n virtual_ipaddres {\n  198.18.0.100\n }\n priority 150\n}\n";
        List<string> errors = Errors(text);
        Assert.Single(errors);
        Assert.StartsWith($"{ConfigPath}:4:2: error: unknown keyword 'virtual_ipaddres'", errors[0]);
    }

    [Theory]
    [InlineData("vrrp_instance VI_1 {\n priority 0\n}", "2:11", "'priority' 0 is out of range: it must be from 1 to 255")]
    [InlineData("vrrp_instance VI_1 {\n priority 256\n}", "2:11", "out of range")]
    [InlineData("vrrp_instance VI_1 {\n priority high\n}", "2:11", "'priority' expects a whole number from 1 to 255, not 'high'")]
    [InlineData("vrrp_instance VI_1 {\n virtual_router_id 0\n}", "2:20", "'virtual_router_id' 0 is out of range")]
    [InlineData("vrrp_instance VI_1 {\n virtual_router_id 300\n}", "2:20", "out of range")]
    [InlineData("vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 1\n advert_int 0.5\n}", "4:13", "is not valid for VRRPv2: it must be whole seconds")]
    [InlineData("vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 1\n version 3\n advert_int 0.015\n}", "5:13", "is not valid for VRRPv3")]
    [InlineData("vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 1\n version 3\n advert_int 41\n}", "5:13", "is not valid for VRRPv3")]
    [InlineData("vrrp_instance VI_1 {\n authentication {\n  auth_type PASS\n  auth_pass 123456789\n }\n}", "4:13", "auth_pass is 9 bytes, but VRRP PASS authentication carries at most 8 (keepalived would silently use '12345678')")]
    [InlineData("vrrp_instance VI_1 {\n virtual_ipaddress {\n  198.18.0.1/33\n }\n}", "3:3", "prefix length' 33 is out of range")]
    [InlineData("vrrp_instance VI_1 {\n virtual_ipaddress {\n  198.18.0.1 dev\n }\n}", "3:14", "'dev' here needs a value")]
    [InlineData("vrrp_instance VI_1 {\n virtual_ipaddress {\n  198.18.0.1 devv eth0\n }\n}", "3:14", "unknown virtual_ipaddress option 'devv'; did you mean 'dev'?")]
    [InlineData("vrrp_instance VI_1 {\n interface eth0\n virtual_ipaddress {\n  198.18.0.1 label vip0\n }\n}", "4:3", "label 'vip0' must be 'eth0' or start with 'eth0:'")]
    [InlineData("vrrp_instance VI_1 {\n virtual_ipaddress {\n  fe80::1\n }\n}", "3:3", "is IPv6: VipProxy supports IPv4 only")]
    [InlineData("virtual_server 198.18.0.1 70000 {\n}", "1:27", "'virtual_server port' 70000 is out of range")]
    [InlineData("virtual_server 198.18.0.1 80 {\n real_server 198.18.1.1 80 {\n  weight -1\n }\n}", "3:10", "'weight' -1 is out of range")]
    [InlineData("virtual_server 198.18.0.1 80 {\n persistence_granularity 255.0.255.0\n}", "2:26", "is not a netmask")]
    [InlineData("virtual_server 198.18.0.1 80 {\n delay_loop -1\n}", "2:13", "'delay_loop' expects a number of seconds")]
    [InlineData("vrrp_instance VI_1 {\n state PRIMARY\n}", "2:8", "'state' expects one of MASTER, BACKUP, not 'PRIMARY'")]
    [InlineData("vrrp_instance VI_1 {\n priority\n}", "2:10", "'priority' is missing its value")]
    [InlineData("vrrp_instance VI_1 {\n priority 100 200\n}", "2:15", "unexpected '200' after 'priority'")]
    [InlineData("vrrp_instance VI_1 {\n nopreempt maybe\n}", "2:12", "'nopreempt' takes no value or one of yes, no, on, off, true, false (lower case, as keepalived), not 'maybe'")]
    [InlineData("vrrp_instance VI_1 {\n nopreempt yes please\n}", "2:16", "unexpected 'please' after 'nopreempt': write 'nopreempt [yes|no]'")]
    [InlineData("vrrp_instance VI_1 {\n priority 100 {\n }\n}", "2:15", "'priority' takes no block")]
    [InlineData("vrrp_instance VI_1 {\n authentication\n}", "2:16", "'authentication' needs a block")]
    public void Out_of_range_and_malformed_values(string text, string at, string message)
    {
        string error = Errors(text).FirstOrDefault(e => e.Contains(message, StringComparison.Ordinal))
            ?? throw new Xunit.Sdk.XunitException($"no error contains '{message}':\n" + string.Join('\n', Errors(text)));
        Assert.StartsWith($"{ConfigPath}:{at}: error: ", error);
    }

    [Fact]
    public void A_missing_closing_brace_is_reported_at_the_opening_brace()
    {
        string text = "global_defs {\n router_id lb1\n}\nvrrp_instance VI_1 {\n interface eth0\n virtual_router_id 51\n";
        Assert.Equal([$"{ConfigPath}:4:20: error: this 'vrrp_instance VI_1' block is never closed: a '}}' is missing before the end of the file"], Errors(text));
    }

    [Fact]
    public void A_missing_brace_before_the_next_block_is_one_error_and_the_next_block_still_binds()
    {
        string text = "vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 51\n virtual_ipaddress {\n  198.18.0.1\n }\n"
            + "virtual_server 198.18.0.1 8066 {\n protocol TCP\n lb_algo bogus\n}\n";
        List<string> errors = Errors(text);
        Assert.Equal(2, errors.Count);
        Assert.StartsWith($"{ConfigPath}:1:20: error: this 'vrrp_instance VI_1' block is never closed: a '}}' is missing before 'virtual_server' at line 7", errors[0]);
        Assert.StartsWith($"{ConfigPath}:9:10: error: 'lb_algo' expects one of", errors[1]);
    }

    [Fact]
    public void An_extra_closing_brace_is_reported_where_it_is() =>
        Assert.Equal([$"{ConfigPath}:8:1: error: unmatched '}}': there is no open block to close here"], Errors(MinimalInstance + "\n}\n"));

    [Fact]
    public void A_brace_with_no_keyword_is_an_error() =>
        Assert.StartsWith($"{ConfigPath}:1:1: error: '{{' does not follow a keyword", Errors("{\n}\n" + MinimalInstance).Single());

    [Theory]
    [InlineData("virtual_server 198.18.0.1 80 {\n lb_kind DR\n}", "2:10", "lb_kind DR is not supported by VipProxy")]
    [InlineData("virtual_server 198.18.0.1 80 {\n lb_kind TUN\n}", "2:10", "lb_kind TUN is not supported by VipProxy")]
    [InlineData("virtual_server 198.18.0.1 80 {\n protocol UDP\n}", "2:11", "protocol UDP is not supported by VipProxy: it forwards TCP only")]
    [InlineData("virtual_server fwmark 1 {\n}", "1:16", "'virtual_server fwmark' is not supported by VipProxy")]
    [InlineData("virtual_server 198.18.0.1 80 {\n lb_algo lblc\n}", "2:10", "lb_algo lblc is not supported by VipProxy")]
    [InlineData("virtual_server 198.18.0.1 80 {\n real_server 198.18.1.1 443 {\n  SSL_GET {\n  }\n }\n}", "3:3", "'SSL_GET' is not supported by VipProxy")]
    [InlineData("vrrp_sync_group G {\n group {\n  VI_1\n }\n}", "1:1", "'vrrp_sync_group' is not supported by VipProxy")]
    [InlineData("vrrp_instance VI_1 {\n use_vmac\n}", "2:2", "'use_vmac' is not supported by VipProxy")]
    [InlineData("vrrp_instance VI_1 {\n authentication {\n  auth_type AH\n }\n}", "3:13", "'auth_type AH' is not supported by VipProxy")]
    public void Unsupported_features_are_errors_that_say_so(string text, string at, string message)
    {
        string error = Errors(text).FirstOrDefault(e => e.Contains(message, StringComparison.Ordinal))
            ?? throw new Xunit.Sdk.XunitException($"no error contains '{message}':\n" + string.Join('\n', Errors(text)));
        Assert.StartsWith($"{ConfigPath}:{at}: error: ", error);
    }

    [Fact]
    public void Duplicate_virtual_router_id_on_one_interface_is_an_error()
    {
        string second = MinimalInstance.Replace("VI_1", "VI_2", StringComparison.Ordinal).Replace("198.18.0.100", "198.18.0.101", StringComparison.Ordinal);
        Assert.Equal(
            [$"{ConfigPath}:10:23: error: virtual_router_id 51 on eth0 is already used by vrrp_instance VI_1 (line 1): each instance on an interface needs its own id"],
            Errors(MinimalInstance + "\n" + second));
        Valid(MinimalInstance + "\n" + second.Replace("eth0", "eth1", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("vrrp_instance VI_1 {\n}", "vrrp_instance VI_1 has no 'interface'")]
    [InlineData("vrrp_instance VI_1 {\n interface eth0\n}", "vrrp_instance VI_1 has no 'virtual_router_id'")]
    [InlineData("vrrp_script chk {\n interval 2\n}", "vrrp_script chk has no 'script'")]
    [InlineData("virtual_server 198.18.0.1 80 {\n real_server 198.18.1.1 80 {\n  HTTP_GET {\n  }\n }\n}", "HTTP_GET has no 'url")]
    [InlineData("virtual_server 198.18.0.1 80 {\n real_server 198.18.1.1 80 {\n  MISC_CHECK {\n  }\n }\n}", "MISC_CHECK has no 'misc_path")]
    [InlineData("virtual_server 198.18.0.1 80 {\n real_server 198.18.1.1 80 {\n  check_send_proxy\n }\n}", "has 'check_send_proxy' but no 'send_proxy' or 'send_proxy_v2'")]
    [InlineData("virtual_server 198.18.0.1 80 {\n conn_rate_per_source 10\n}", "conn_rate_per_source CONNECTIONS SECONDS")]
    public void Missing_required_keywords(string text, string message) =>
        Assert.Contains(Errors(text), e => e.Contains(message, StringComparison.Ordinal));

    [Fact]
    public void Duplicates_and_dangling_references_are_errors()
    {
        string text = "vrrp_script chk_mycat {\n script /bin/true\n}\n"
            + MinimalInstance.Replace("interface eth0", "interface eth0\n track_script {\n  chk_mycta\n }", StringComparison.Ordinal) + "\n"
            + MinimalInstance.Replace("virtual_router_id 51", "virtual_router_id 52", StringComparison.Ordinal) + "\n"
            + "virtual_server 198.18.0.1 80 {\n protocol TCP\n real_server 198.18.1.1 80 {\n }\n real_server 198.18.1.1 80 {\n }\n}\n"
            + "virtual_server 198.18.0.1 80 {\n protocol TCP\n}\n";
        List<string> errors = Errors(text);
        Assert.Contains(errors, e => e.Contains("track_script names 'chk_mycta', but no vrrp_script has that name; did you mean 'chk_mycat'?", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("vrrp_instance VI_1 is already declared at line 4", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("real_server 198.18.1.1 80 is already declared at line 23", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("virtual_server 198.18.0.1 80 is already declared at line 21", StringComparison.Ordinal));
    }

    [Fact]
    public void Every_error_of_a_file_is_reported_at_once()
    {
        string text = "vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 999\n priorty 100\n advert_int x\n}\n"
            + "virtual_server 198.18.0.1 80 {\n protocol TCP\n lb_algo rrr\n maxconn 0\n}\n";
        Assert.Equal(5, Errors(text).Count);
    }
}
