using VipProxy.Host.Doctor;
using static VipProxy.Host.Tests.Doctor.DoctorHosts;

namespace VipProxy.Host.Tests.Doctor;

/// <summary>The doctor's firewall check on rulesets as nft -j and iptables-save print them (captured from nft 1.0.6).</summary>
public sealed class FirewallAnalysisTests
{
    private static string Nft(string policy, params string[] rules)
    {
        IEnumerable<string> ruleItems = rules.Select((rule, i) =>
            "{\"rule\": {\"family\": \"inet\", \"table\": \"filter\", \"chain\": \"" + (rule.StartsWith('>') ? "vrrp_in" : "input")
            + "\", \"handle\": " + (i + 10) + ", \"expr\": [" + rule.TrimStart('>') + "]}}");
        string[] items =
        [
            """{"metainfo": {"version": "1.0.6", "release_name": "Lester Gooch #5", "json_schema_version": 1}}""",
            """{"table": {"family": "inet", "name": "filter", "handle": 1}}""",
            """{"chain": {"family": "inet", "table": "filter", "name": "input", "handle": 1, "type": "filter", "hook": "input", "prio": 0, "policy": "POLICY"}}""".Replace("POLICY", policy, StringComparison.Ordinal),
            """{"chain": {"family": "inet", "table": "filter", "name": "vrrp_in", "handle": 2}}""",
            .. ruleItems,
        ];
        return "{\"nftables\": [" + string.Join(", ", items) + "]}";
    }

    private const string ProtocolVrrp = """{"match": {"op": "==", "left": {"payload": {"protocol": "ip", "field": "protocol"}}, "right": "vrrp"}}""";
    private const string Drop = """{"drop": null}""";
    private const string Accept = """{"accept": null}""";
    private const string Established = """{"match": {"op": "in", "left": {"ct": {"key": "state"}}, "right": ["established", "related"]}}""";

    private static List<DoctorFinding> Firewall(HostSnapshot host, int port = 3306) =>
        [.. DoctorAnalysis.Analyze(NodeConfig(port: port), host).Problems(DoctorAnalysis.FirewallCheck)];

    private static HostSnapshot WithNft(string json, string listing = "") => Healthy() with { Nftables = Tool(json), NftablesListing = Tool(listing) };

    [Fact]
    public void An_nft_rule_dropping_protocol_112_blocks_and_is_named_by_handle_and_text()
    {
        string json = Nft("accept", $"{ProtocolVrrp}, {{\"counter\": {{\"packets\": 0, \"bytes\": 0}}}}, {Drop}");
        string listing = """
            table inet filter { # handle 1
            	chain input { # handle 1
            		type filter hook input priority filter; policy accept;
            		ip protocol vrrp counter packets 0 bytes 0 drop # handle 10
            	}

            	chain vrrp_in { # handle 2
            	}
            }
            """;
        DoctorFinding finding = Assert.Single(Firewall(WithNft(json, listing)));
        Assert.Equal(DoctorSeverity.Error, finding.Severity);
        Assert.Contains("nftables table inet filter, chain input, handle 10: \"ip protocol vrrp counter packets 0 bytes 0 drop\" drops VRRP adverts from the other nodes on eth0", finding.What, StringComparison.Ordinal);
        Assert.Contains("nft insert rule inet filter input iifname \"eth0\" ip daddr 224.0.0.18 ip protocol vrrp accept", finding.Fix, StringComparison.Ordinal);
    }

    [Fact]
    public void A_drop_policy_blocks_unless_a_rule_accepts_VRRP_and_the_clients()
    {
        Assert.Contains(Firewall(WithNft(Nft("drop", $"{Established}, {Accept}"))), f => f.Severity == DoctorSeverity.Error
            && f.What.Contains("nftables table inet filter, chain input: its drop policy, with no rule accepting them first, drops VRRP adverts", StringComparison.Ordinal) && f.What.Contains("VRRP adverts", StringComparison.Ordinal));

        const string Mysql = """{"match": {"op": "==", "left": {"payload": {"protocol": "tcp", "field": "dport"}}, "right": {"set": [22, {"range": [3306, 3310]}]}}}""";
        Assert.Empty(Firewall(WithNft(Nft("drop", $"{Established}, {Accept}", $"{ProtocolVrrp}, {Accept}", $"{Mysql}, {Accept}"))));

        // Without the port rule, the clients are the ones stopped.
        DoctorFinding clients = Assert.Single(Firewall(WithNft(Nft("drop", $"{ProtocolVrrp}, {Accept}"))));
        Assert.Contains("clients' connections to virtual_server 198.18.0.100 3306", clients.What, StringComparison.Ordinal);
        Assert.Contains("ufw allow 3306/tcp", clients.Fix, StringComparison.Ordinal);
    }

    [Fact]
    public void A_drop_in_a_jumped_to_chain_is_found_and_a_rule_for_another_interface_is_not()
    {
        const string ToMulticast = """{"match": {"op": "==", "left": {"payload": {"protocol": "ip", "field": "daddr"}}, "right": {"prefix": {"addr": "224.0.0.0", "len": 4}}}}""";
        string json = Nft("accept", ToMulticast + """, {"jump": {"target": "vrrp_in"}}""", $">{ProtocolVrrp}, {Drop}");
        Assert.Contains(Firewall(WithNft(json)), f => f.Severity == DoctorSeverity.Error && f.What.Contains("chain vrrp_in, handle 11", StringComparison.Ordinal));

        const string OnEth9 = """{"match": {"op": "==", "left": {"meta": {"key": "iifname"}}, "right": "eth9"}}""";
        Assert.Empty(Firewall(WithNft(Nft("accept", $"{OnEth9}, {ProtocolVrrp}, {Drop}"))));
    }

    [Fact]
    public void A_drop_that_depends_on_the_unknown_source_is_a_warning()
    {
        const string NotLan = """{"match": {"op": "!=", "left": {"payload": {"protocol": "ip", "field": "saddr"}}, "right": {"prefix": {"addr": "198.18.0.0", "len": 15}}}}""";
        const string ThPort = """{"match": {"op": "==", "left": {"payload": {"protocol": "th", "field": "dport"}}, "right": 3306}}""";
        DoctorFinding finding = Assert.Single(Firewall(WithNft(Nft("accept", $"{NotLan}, {ThPort}, {Drop}"))));
        Assert.Equal(DoctorSeverity.Warning, finding.Severity);
        Assert.Contains("may drop clients' connections", finding.What, StringComparison.Ordinal);
    }

    [Fact]
    public void Reject_of_multicast_by_l4proto_set_counts_as_a_drop_of_our_own_adverts_too()
    {
        const string L4 = """{"match": {"op": "==", "left": {"meta": {"key": "l4proto"}}, "right": {"set": ["tcp", "vrrp"]}}}""";
        const string Group = """{"match": {"op": "==", "left": {"payload": {"protocol": "ip", "field": "daddr"}}, "right": "224.0.0.18"}}""";
        string json = $$$"""
            {"nftables": [{"table": {"family": "ip", "name": "out", "handle": 3}},
             {"chain": {"family": "ip", "table": "out", "name": "output", "handle": 1, "type": "filter", "hook": "output", "prio": 0, "policy": "accept"}},
             {"rule": {"family": "ip", "table": "out", "chain": "output", "handle": 4, "expr": [{{{L4}}}, {{{Group}}}, {"reject": {"type": "icmp", "expr": "port-unreachable"}}]}}]}
            """;
        DoctorFinding finding = Assert.Single(Firewall(WithNft(json)));
        Assert.Equal(DoctorSeverity.Error, finding.Severity);
        Assert.Contains("this node's VRRP adverts out of eth0", finding.What, StringComparison.Ordinal);
    }

    [Fact]
    public void Iptables_save_rules_and_policies_are_checked_the_same_way()
    {
        const string Blocking = """
            # Generated by iptables-save v1.8.9 on Thu Dec  3 11:00:00 2026
            *filter
            :INPUT ACCEPT [0:0]
            :FORWARD ACCEPT [0:0]
            :OUTPUT ACCEPT [0:0]
            -A INPUT -m state --state RELATED,ESTABLISHED -j ACCEPT
            -A INPUT -i eth0 -p vrrp -m comment --comment "no \"VRRP\" here" -j DROP
            -A INPUT -p tcp -m multiport --dports 22,3306:3310 -j REJECT --reject-with icmp-port-unreachable
            COMMIT
            """;
        List<DoctorFinding> findings = Firewall(Healthy() with { Iptables = Tool(Blocking) });
        Assert.Equal(2, findings.Count);
        Assert.Contains(findings, f => f.Severity == DoctorSeverity.Error && f.What.Contains("iptables table filter, chain INPUT, rule 2: \"-A INPUT -i eth0 -p vrrp", StringComparison.Ordinal));
        Assert.Contains(findings, f => f.Severity == DoctorSeverity.Error && f.What.Contains("rule 3", StringComparison.Ordinal) && f.What.Contains("virtual_server", StringComparison.Ordinal));

        const string Open = """
            *filter
            :INPUT DROP [0:0]
            :OUTPUT ACCEPT [0:0]
            :VRRP - [0:0]
            -A INPUT -d 224.0.0.18/32 -j VRRP
            -A INPUT -p tcp -m tcp --dport 3306 -j ACCEPT
            -A INPUT ! -s 198.18.0.0/15 -p tcp --dport 3307 -j DROP
            -A INPUT -p tcp --dport 3307 -j ACCEPT
            -A VRRP -p vrrp -j ACCEPT
            COMMIT
            """;
        Assert.Empty(Firewall(Healthy() with { Iptables = Tool(Open) }));
        DoctorFinding maybe = Assert.Single(Firewall(Healthy() with { Iptables = Tool(Open) }, port: 3307));
        Assert.Equal(DoctorSeverity.Warning, maybe.Severity);
    }

    [Fact]
    public void Unicast_peers_are_checked_with_their_own_addresses()
    {
        const string Save = """
            *filter
            :INPUT ACCEPT [0:0]
            -A INPUT -s 198.18.0.2/32 -p 112 -j DROP
            COMMIT
            """;
        var host = Healthy() with { Iptables = Tool(Save) };
        List<DoctorFinding> findings = [.. DoctorAnalysis.Analyze(NodeConfig("unicast_peer {\n 198.18.0.2\n }"), host).Problems(DoctorAnalysis.FirewallCheck)];
        DoctorFinding finding = Assert.Single(findings);
        Assert.Contains("VRRP adverts from unicast_peer 198.18.0.2 (protocol 112 to 198.18.0.1)", finding.What, StringComparison.Ordinal);
        Assert.Contains("iptables -I INPUT -i eth0 -s 198.18.0.2 -d 198.18.0.1 -p vrrp -j ACCEPT", finding.Fix, StringComparison.Ordinal);
    }

    [Fact]
    public void A_firewall_tool_that_fails_or_is_missing_is_said_so()
    {
        var host = Healthy() with { Nftables = new ToolOutput(true, 1, "", "Operation not permitted"), Iptables = ToolOutput.NotInstalled };
        DoctorResult result = DoctorAnalysis.Analyze(NodeConfig(), host);
        Assert.Contains(result.Of(DoctorAnalysis.FirewallCheck), f => f.Severity == DoctorSeverity.Warning && f.What.Contains("Operation not permitted", StringComparison.Ordinal));
        Assert.Contains(result.Of(DoctorAnalysis.FirewallCheck), f => f.Severity == DoctorSeverity.Info && f.What.StartsWith("iptables-save is not installed", StringComparison.Ordinal));
    }
}
