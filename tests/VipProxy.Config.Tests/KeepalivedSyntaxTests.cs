using VipProxy.Config.Binding;
using VipProxy.Config.Diagnostics;
using VipProxy.Config.Model;
using VipProxy.Config.Syntax;
using static VipProxy.Config.Tests.ConfigAssert;

namespace VipProxy.Config.Tests;

/// <summary>
/// Issue 17, keepalived 2.x syntax: flags with yes/no, ~SEQ/~LST, keepalived keywords VipProxy does not implement,
/// and refused virtual servers with one error each.
/// </summary>
public class KeepalivedSyntaxTests
{
    private static string LexError(string text)
    {
        var diagnostics = new DiagnosticBag();
        new ConfigLexer(InMemoryFiles.Of(), new LexerOptions(null), diagnostics).LexText(ConfigPath, text);
        return Assert.Single(diagnostics.Items, d => d.Severity == DiagnosticSeverity.Error).ToString();
    }

    // ---- flags with an optional yes/no ----

    [Theory]
    [InlineData("inhibit_on_failure", true)]
    [InlineData("inhibit_on_failure yes", true)]
    [InlineData("inhibit_on_failure on", true)]
    [InlineData("inhibit_on_failure true", true)]
    [InlineData("inhibit_on_failure no", false)]
    [InlineData("inhibit_on_failure off", false)]
    [InlineData("inhibit_on_failure false", false)]
    public void A_real_server_flag_reads_yes_and_no_as_keepalived_does(string line, bool expected) =>
        Assert.Equal(expected, VirtualServer($"inhibit_on_failure\nreal_server 198.18.1.1 3306 {{\n{line}\n}}").RealServers.Single().InhibitOnFailure);

    [Theory]
    [InlineData("alpha yes", true)]
    [InlineData("omega on", true)]
    [InlineData("inhibit_on_failure true", true)]
    [InlineData("sorry_server_inhibit yes", true)]
    public void Flags_whose_value_keepalived_ignores_still_take_a_yes(string line, bool expected)
    {
        VirtualServer vs = VirtualServer(line);
        bool value = line.Split(' ')[0] switch
        {
            "alpha" => vs.Alpha,
            "omega" => vs.Omega,
            "inhibit_on_failure" => vs.InhibitOnFailure,
            _ => vs.SorryServerInhibit,
        };
        Assert.Equal(expected, value);
    }

    [Theory]
    [InlineData("virtual_server 198.18.0.1 80 {\n protocol TCP\n alpha no\n}", "3:8", "'alpha no' is read the other way by keepalived 2.2.7, which ignores any value after 'alpha' and switches it on; remove the line to leave 'alpha' off")]
    [InlineData("vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 1\n nopreempt no\n}", "4:12", "'nopreempt no' is read the other way by keepalived 2.2.7")]
    [InlineData("global_defs {\n vrrp_skip_check_adv_addr off\n}", "2:27", "'vrrp_skip_check_adv_addr off' is read the other way by keepalived 2.2.7")]
    [InlineData("global_defs {\n enable_script_security false\n}", "2:25", "'enable_script_security false' is read the other way")]
    [InlineData("virtual_server 198.18.0.1 80 {\n protocol TCP\n alpha Yes\n}", "3:8", "'alpha' takes no value or one of yes, no, on, off, true, false (lower case, as keepalived), not 'Yes'")]
    public void A_no_that_keepalived_would_read_as_yes_is_refused(string text, string at, string message) =>
        Assert.StartsWith($"{ConfigPath}:{at}: error: {message}", Assert.Single(Errors(text), e => e.Contains(message, StringComparison.Ordinal)));

    [Fact]
    public void Flags_of_vipproxy_alone_take_no_too()
    {
        VirtualServer vs = VirtualServer("transparent no\nsend_proxy_v2 yes\nreal_server 198.18.1.1 3306 {\n send_proxy_v2 no\n backup no\n}");
        Assert.False(vs.Transparent);
        Assert.Equal(VipProxy.Core.ProxyProtocol.ProxyProtocolVersion.None, vs.RealServers.Single().SendProxy);
        Assert.False(vs.RealServers.Single().Backup);
        Assert.True(Instance("nopreempt yes").Preempt is false);
        Assert.True(Instance("nopreempt\npreempt yes").Preempt);
    }

    // ---- ~SEQ and ~LST ----

    [Theory]
    [InlineData("~SEQ(SUBNET, 0, 3) ip 10.0.${SUBNET}.1", "ip 10.0.0.1 ⏎ ip 10.0.1.1 ⏎ ip 10.0.2.1 ⏎ ip 10.0.3.1 ⏎")]
    [InlineData("~SEQ(I, 3) n $I", "n 1 ⏎ n 2 ⏎ n 3 ⏎")]
    [InlineData("~SEQ(I, -2) n $I", "n -1 ⏎ n -2 ⏎")]
    [InlineData("~SEQ(I, 0) n $I", "n 1 ⏎ n 0 ⏎")]
    [InlineData("~SEQ(I, 5, 3) n $I", "n 5 ⏎ n 4 ⏎ n 3 ⏎")]
    [InlineData("~SEQ(I, 10, -5, 0) n $I", "n 10 ⏎ n 5 ⏎ n 0 ⏎")]
    [InlineData("~SEQ(I, 1, 2, 6) n $I", "n 1 ⏎ n 3 ⏎ n 5 ⏎")]
    [InlineData("~SEQ(I, 0x10, 010, 20) n $I", "n 16 ⏎")]
    [InlineData("~SEQx(A, 144, 16, 192) fe80::20:${A}:1", "fe80::20:90:1 ⏎ fe80::20:a0:1 ⏎ fe80::20:b0:1 ⏎ fe80::20:c0:1 ⏎")]
    [InlineData("  ~SEQ(I,1,2) ~SEQ(J,1,2) x ${I}.${J}", "x 1.1 ⏎ x 1.2 ⏎ x 2.1 ⏎ x 2.2 ⏎")]
    [InlineData("~LST(IP, 1, 2, 3) 192.168.${IP}.1", "192.168.1.1 ⏎ 192.168.2.1 ⏎ 192.168.3.1 ⏎")]
    [InlineData("~LST({IP, IP1}, {10,1},{20,4}) 192.168.${IP}.${IP1}", "192.168.10.1 ⏎ 192.168.20.4 ⏎")]
    [InlineData("~LST({A, B}, {x}, {y, z}) v ${A}-${B}", "v x- ⏎ v y-z ⏎")]
    [InlineData("~LST(IP, 1, 2) ~LST(IP1, 5,6) 192.169.${IP}.${IP1}", "192.169.1.5 ⏎ 192.169.1.6 ⏎ 192.169.2.5 ⏎ 192.169.2.6 ⏎")]
    [InlineData("~LST({IP, IP1}, {10,1},{20,4}) ~SEQ(IP2,168,2,170) 192.${IP2}.${IP}.${IP1}", "192.168.10.1 ⏎ 192.170.10.1 ⏎ 192.168.20.4 ⏎ 192.170.20.4 ⏎")]
    [InlineData("$LAST=3\n~SEQ(I, $LAST) n $I # a comment", "n 1 ⏎ n 2 ⏎ n 3 ⏎")]
    [InlineData("$RS=real_server 198.18.1.$N 80 { weight $N }\n~SEQ(N, 1, 2) $RS", "real_server 198.18.1.1 80 { weight 1 } ⏎ real_server 198.18.1.2 80 { weight 2 } ⏎")]
    [InlineData("~SEQ(I, 1, 2) @node1 a $I\n~SEQ(J, 1, 2) @^node1 b $J", "a 1 ⏎ a 2 ⏎")]
    public void Repeated_lines_expand_as_in_keepalived(string text, string expected)
    {
        var diagnostics = new DiagnosticBag();
        IReadOnlyList<Token> tokens = new ConfigLexer(InMemoryFiles.Of(), new LexerOptions("node1"), diagnostics).LexText(ConfigPath, text);
        Assert.False(diagnostics.HasErrors, string.Join('\n', diagnostics.Items));
        Assert.Equal(expected, string.Join(' ', tokens.Select(t => t.Kind == TokenKind.EndOfLine ? "⏎" : t.Text)));
    }

    [Theory]
    [InlineData("~SEQ I, 1, 3) x", "1:6", "invalid ~SEQ: '(' expected after ~SEQ")]
    [InlineData("~SEQ(1) x", "1:6", "invalid ~SEQ: ~SEQ needs a variable name and then its numbers")]
    [InlineData("~SEQ(I, 1, 3 x", "1:15", "invalid ~SEQ: ~SEQ is missing its ')'")]
    [InlineData("~SEQ(I, 1, a) x", "1:9", "invalid ~SEQ: 'a' in ~SEQ is not a whole number")]
    [InlineData("~SEQ(I, 1, -1, 3) x", "1:9", "invalid ~SEQ: ~SEQ from 1 to 3 in steps of -1 never reaches its end")]
    [InlineData("~SEQ(I, 1, 0, 3) x", "1:9", "invalid ~SEQ: ~SEQ from 1 to 3 in steps of 0 never reaches its end")]
    [InlineData("~SEQx(I, -3, 3) x", "1:10", "invalid ~SEQ: ~SEQx is only for numbers that are not negative")]
    [InlineData("~LST(A) x", "1:7", "invalid ~LST: ',' and the values expected after the ~LST variables")]
    [InlineData("~LST({A, B}, {1, 2, 3}) x", "1:21", "invalid ~LST: a ~LST value set has more values than the 2 variable(s)")]
    [InlineData("~SEQ(I, 1, 1000000) x", "1:1", "~SEQ would make more than 100000 lines in this configuration")]
    public void A_malformed_repetition_is_one_error_at_its_place(string text, string at, string message) =>
        Assert.StartsWith($"{ConfigPath}:{at}: error: {message}", LexError(text));

    [Fact]
    public void An_error_in_a_repeated_line_points_at_that_line_and_column()
    {
        string text = "virtual_server 198.18.0.1 80 {\n protocol TCP\n  ~SEQ(N, 6, 8) real_server 198.18.1.$N 80 { weight ${N}0000 }\n}\n";
        Assert.Equal(
            [$"{ConfigPath}:3:53: error: 'weight' 70000 is out of range: it must be from 0 to 65535", $"{ConfigPath}:3:53: error: 'weight' 80000 is out of range: it must be from 0 to 65535"],
            Errors(text));
        Assert.Equal(3, Valid(text.Replace("${N}0000", "${N}", StringComparison.Ordinal)).VirtualServers.Single().RealServers.Count);
    }

    [Fact]
    public void A_definition_that_uses_itself_is_one_error_not_a_hang()
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        string error = LexError("$A=$A $A\npriority " + string.Concat(Enumerable.Repeat("$A ", 1000)) + "\n");
        Assert.StartsWith($"{ConfigPath}:2:1: error: $NAME definitions make this line longer than 65536 characters: does a definition use itself?", error);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"took {clock.Elapsed}");
    }

    [Fact]
    public void Keepalived_s_own_sequence_example_makes_its_instances()
    {
        string text = "$VI=vrrp_instance vi_${IF}_${ID} { \\\n interface eth${IF} \\\n virtual_router_id ${ID} \\\n virtual_ipaddress { \\\n  198.18.${IF}.${ID}/24 \\\n } \\\n}\n"
            + "~SEQ(IF, 0, 1) ~SEQ(ID, 1, 50) $VI\n";
        KeepalivedConfig config = Valid(text);
        Assert.Equal(100, config.VrrpInstances.Count);
        Assert.Equal(("vi_1_50", "eth1", 50), (config.VrrpInstances[^1].Name, config.VrrpInstances[^1].Interface, config.VrrpInstances[^1].VirtualRouterId));
    }

    // ---- keepalived keywords VipProxy does not implement ----

    [Theory]
    [InlineData("vrrp_instance VI_1 {\n track_src_ip\n}", "2:2", "keepalived keyword 'track_src_ip' is not supported by VipProxy: adverts are sent from unicast_src_ip")]
    [InlineData("vrrp_instance VI_1 {\n mcast_dst_ip 224.0.0.19\n}", "2:2", "keepalived keyword 'mcast_dst_ip' is not supported by VipProxy: a per-instance multicast group is not implemented; set 'vrrp_mcast_group4' in global_defs")]
    [InlineData("global_defs {\n vrrp_mcast_group6 ff02::12\n}", "2:2", "keepalived keyword 'vrrp_mcast_group6' is not supported by VipProxy: VRRP over IPv6 is not implemented")]
    [InlineData("global_defs {\n vrrp_mcast_group_6 ff02::12\n}", "2:2", "unknown keyword 'vrrp_mcast_group_6' in global_defs; did you mean 'vrrp_mcast_group4'?")]
    [InlineData("vrrp_instance VI_1 {\n use_vmac_addr\n}", "2:2", "keepalived keyword 'use_vmac_addr' is not supported by VipProxy: virtual MAC addresses are not implemented")]
    [InlineData("global_defs {\n vrrp_garp_extra_if 5\n}", "2:2", "keepalived keyword 'vrrp_garp_extra_if' is not supported by VipProxy")]
    [InlineData("global_defs {\n startup_script /bin/true\n}", "2:2", "keepalived keyword 'startup_script' is not supported by VipProxy: run the program from systemd (ExecStartPre) instead")]
    [InlineData("virtual_server 198.18.0.1 80 {\n protocol TCP\n weight 2\n}", "3:2", "keepalived keyword 'weight' is not supported by VipProxy: a virtual_server weight only applies to virtual_server_group, which VipProxy does not implement (VipProxy accepts 'weight' in vrrp_script or real_server)")]
    [InlineData("virtual_server 198.18.0.1 80 {\n protocol TCP\n real_server 198.18.1.1 80 {\n  TCP_CHECK {\n   fwmark 3\n  }\n }\n}", "5:4", "keepalived keyword 'fwmark' is not supported by VipProxy: checker probes cannot be given a firewall mark")]
    [InlineData("virtual_server 198.18.0.1 80 {\n protocol TCP\n real_server 198.18.1.1 80 {\n  HTTP_GET {\n   url {\n    path /\n    regex ok\n   }\n  }\n }\n}", "7:5", "keepalived keyword 'regex' is not supported by VipProxy: HTTP_GET matches the status code and 'digest' only")]
    [InlineData("vrrp_instance VI_1 {\n vrrp_strict\n}", "2:2", "keepalived keyword 'vrrp_strict' is not supported by VipProxy, and in keepalived it belongs in global_defs, not in vrrp_instance")]
    [InlineData("vrrp_instance VI_1 {\n ha_suspend\n}", "2:2", "keepalived keyword 'ha_suspend' is not supported by VipProxy, and in keepalived it belongs in virtual_server, not in vrrp_instance")]
    [InlineData("vrrp_instance VI_1 {\n version 2\n unicast_peer {\n  198.18.0.2 min_ttl 250\n }\n}", "4:14", "keepalived unicast_peer option 'min_ttl' is not supported by VipProxy")]
    [InlineData("vrrp_instance VI_1 {\n virtual_ipaddress {\n  198.18.0.1/24 dev eth0 preferred_lft 0\n }\n}", "3:26", "keepalived virtual_ipaddress option 'preferred_lft' is not supported by VipProxy: address lifetimes are not implemented")]
    [InlineData("vrrp_instance VI_1 {\n track_script {\n  chk weight 10 reverse\n }\n}", "3:17", "keepalived's 'reverse' after a tracked script's weight is not supported by VipProxy: write 'weight N reverse' in the vrrp_script itself")]
    public void A_keepalived_keyword_says_it_is_not_supported(string text, string at, string message)
    {
        string error = Errors(text).FirstOrDefault(e => e.Contains(message, StringComparison.Ordinal))
            ?? throw new Xunit.Sdk.XunitException($"no error contains '{message}':\n" + string.Join('\n', Errors(text)));
        Assert.StartsWith($"{ConfigPath}:{at}: error: ", error);
        Assert.DoesNotContain(Errors(text), e => e.Contains("did you mean", StringComparison.Ordinal) && !message.Contains("did you mean", StringComparison.Ordinal));
    }

    [Fact]
    public void No_track_on_a_vip_is_what_vipproxy_does_anyway()
    {
        List<string> warnings = Warnings("vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 1\n virtual_ipaddress {\n  198.18.0.1/24 dev eth0 no_track\n }\n}");
        Assert.Contains($"{ConfigPath}:5:26: warning: virtual_ipaddress option 'no_track' has no effect in VipProxy: VipProxy does not watch its VIPs for removal, so every VIP already behaves as 'no_track'", warnings);
    }

    [Fact]
    public void Every_refused_or_ignored_word_is_a_keepalived_keyword_or_option()
    {
        // The two tables explain keepalived keywords; a key that keepalived 2.2.7 does not know is a stale entry.
        string[] notKeepalived22 = ["lvs_id", "virtual_ipaddress6"];
        foreach (string keyword in ConfigKeywords.Refused.Keys.Concat(ConfigKeywords.Ignored.Keys).Except(notKeepalived22))
        {
            Assert.True(KeepalivedKeywords.IsKeyword(keyword), $"'{keyword}' is not a keepalived 2.2.7 keyword");
        }
    }

    [Fact]
    public void The_keepalived_table_knows_what_vipproxy_reads_from_keepalived_files()
    {
        // Every keyword VipProxy accepts is either a keepalived keyword of the same block or one of VipProxy's own.
        string[] vipproxyOwn =
        [
            "metrics_listen", "forwarder_threads", "log_connections", "dont_track_virtual_servers", "garp_interval", "maxconn", "proxy_connect_timeout",
            "idle_timeout", "transparent", "maxconn_per_source", "conn_rate_per_source", "tcp_keepalive", "send_proxy", "send_proxy_v2",
            "check_send_proxy", "backup", "rise", "nb_get_retry", "MYSQL_CHECK", "user", "password", "database", "role", "max_replication_lag",
            "galera", "galera_donor_ok", "query", "expect", "expect_regex",
            // On main, not yet on this branch: listed so that the merge keeps this test green.
            "lag_weight", "slowstart", "state_file", "writer_conflict", "shutdown_sessions_on_down",
        ];
        foreach (ConfigBlockKeywords block in ConfigKeywords.Blocks)
        {
            foreach (string keyword in block.Keywords.Except(vipproxyOwn))
            {
                Assert.True(KeepalivedKeywords.Has(block.Block, keyword), $"{block.Block}/{keyword} is not in keepalived's table");
            }
        }
    }

    // ---- refused virtual servers: one precise error each, nothing from inside ----

    private const string Junk = "\n lb_algo nonsense\n bogus_keyword 1\n real_server 198.18.1.1 {\n  UDP_CHECK {\n  }\n }\n";

    [Theory]
    [InlineData("virtual_server fwmark 1 {" + Junk + "}", "1:16", "'virtual_server fwmark' is not supported by VipProxy: a firewall-mark service is a kernel IPVS feature")]
    [InlineData("virtual_server group web {" + Junk + "}", "1:16", "'virtual_server group' is not supported by VipProxy")]
    [InlineData("virtual_server 198.18.0.1 {" + Junk + "}", "1:27", "virtual_server 198.18.0.1 without a port is not supported by VipProxy: a service on every port (IPVS port 0, used with persistence) needs kernel IPVS")]
    [InlineData("virtual_server 198.18.0.1 0 {" + Junk + "}", "1:27", "virtual_server 198.18.0.1 without a port is not supported by VipProxy")]
    [InlineData("virtual_server 198.18.0.1 80 {\n lb_kind DR" + Junk + "}", "2:10", "lb_kind DR is not supported by VipProxy: with direct routing the real servers answer clients themselves, which needs kernel IPVS; VipProxy is a proxy, so replies come back through it (as with NAT). To let the real servers see the client's address, write 'lb_kind NAT' with 'transparent'")]
    [InlineData("virtual_server 198.18.0.1 80 {\n lvs_method TUN" + Junk + "}", "2:13", "lb_kind TUN is not supported by VipProxy: with IP tunnelling")]
    [InlineData("virtual_server 198.18.0.1 53 {" + Junk + " protocol UDP\n}", "8:11", "protocol UDP is not supported by VipProxy: it forwards TCP only")]
    public void A_refused_virtual_server_is_one_error(string text, string at, string message)
    {
        string error = Assert.Single(Errors(text));
        Assert.StartsWith($"{ConfigPath}:{at}: error: {message}", error);
    }

    [Fact]
    public void A_refused_virtual_server_does_not_hide_errors_elsewhere()
    {
        string text = "virtual_server 198.18.0.1 80 {\n lb_kind DR\n protocol UDP\n}\nvirtual_server 198.18.0.2 80 {\n protocol TCP\n lb_algo nonsense\n}\n";
        List<string> errors = Errors(text);
        Assert.Equal(3, errors.Count);
        Assert.Contains("lb_kind DR is not supported", errors[0], StringComparison.Ordinal);
        Assert.Contains("protocol UDP is not supported", errors[1], StringComparison.Ordinal);
        Assert.StartsWith($"{ConfigPath}:7:10: error: 'lb_algo' expects one of", errors[2]);
    }

    // ---- alpha per real server and checker, virtualhost per url ----

    [Fact]
    public void Alpha_on_a_real_server_is_accepted_when_it_agrees_with_its_virtual_server()
    {
        Assert.True(VirtualServer("alpha\nreal_server 198.18.1.1 3306 {\n alpha\n TCP_CHECK {\n  alpha yes\n }\n}").Alpha);
        Assert.False(VirtualServer("real_server 198.18.1.1 3306 {\n alpha no\n TCP_CHECK {\n  alpha no\n }\n}").Alpha);
    }

    [Theory]
    [InlineData("real_server 198.18.1.1 3306 {\n alpha\n}", "4:2", "'alpha' on a real_server is not supported by VipProxy: alpha (servers start down until their first check passes) applies to a whole virtual_server here, and virtual_server 198.18.0.100 8066 has no alpha")]
    [InlineData("alpha\nreal_server 198.18.1.1 3306 {\n alpha no\n}", "5:2", "'alpha no' on a real_server is not supported by VipProxy")]
    [InlineData("real_server 198.18.1.1 3306 {\n TCP_CHECK {\n  alpha\n }\n}", "5:3", "'alpha' on a TCP_CHECK is not supported by VipProxy")]
    public void Alpha_that_differs_from_its_virtual_server_is_refused(string body, string at, string message)
    {
        string error = Assert.Single(Errors($"virtual_server 198.18.0.100 8066 {{\n protocol TCP\n{body}\n}}\n"));
        Assert.StartsWith($"{ConfigPath}:{at}: error: {message}", error);
    }

    [Fact]
    public void Virtualhost_in_a_url_becomes_the_check_s_host_when_the_urls_agree()
    {
        HttpGetCheck check = (HttpGetCheck)RealServer(" HTTP_GET {\n  url {\n   path /a\n   virtualhost a.example\n  }\n  url {\n   path /b\n   virtualhost a.example\n  }\n }").Checkers.Single();
        Assert.Equal("a.example", check.VirtualHost);
        HttpGetCheck inherited = (HttpGetCheck)RealServer(" virtualhost b.example\n HTTP_GET {\n  url {\n   path /a\n  }\n  url {\n   path /b\n   virtualhost b.example\n  }\n }").Checkers.Single();
        Assert.Equal("b.example", inherited.VirtualHost);
    }

    [Fact]
    public void Urls_with_different_virtualhosts_are_refused()
    {
        string error = Assert.Single(Errors("virtual_server 198.18.0.1 80 {\n protocol TCP\n real_server 198.18.1.1 80 {\n  HTTP_GET {\n   url {\n    path /a\n    virtualhost a.example\n   }\n   url {\n    path /b\n    virtualhost b.example\n   }\n  }\n }\n}\n"));
        Assert.StartsWith($"{ConfigPath}:11:5: error: the urls of this HTTP_GET ask for different virtualhosts ('a.example' and 'b.example'), which VipProxy does not support: one HTTP_GET sends one Host header; write one HTTP_GET per virtualhost", error);
    }
}
