using System.Text.Json;
using System.Text.RegularExpressions;
using VipProxy.Lab;
using Xunit.Abstractions;
using static VipProxy.Scenario.Tests.Vrrp;

namespace VipProxy.Scenario.Tests;

/// <summary>
/// Issue 20's <c>vipproxy doctor</c>, run as the built binary inside a LAN host (ip netns exec): it names the nft rule
/// that drops VRRP, the router of another team that uses this file's VRID, and a peer whose adverts this node would
/// reject. nft runs only inside the test hosts.
/// </summary>
[Collection(NetworkScenariosCollection.Name)]
[Trait("Category", "Root")]
public sealed partial class DoctorScenarios(ITestOutputHelper output)
{
    /// <summary>The apphost next to vipproxy.dll: what an operator runs.</summary>
    private static readonly string Binary = Path.Combine(AppContext.BaseDirectory, "vipproxy");

    private static string NodeConfig(LanHost host) => $$"""
        vrrp_instance VI_1 {
            state BACKUP
            interface {{host.Interfaces[0].Name}}
            virtual_router_id 51
            priority 100
            advert_int 1
            virtual_ipaddress {
                {{Vip}}/24
            }
        }
        virtual_server {{Vip}} 3306 {
            lb_algo rr
            real_server 198.18.0.50 3306 {
                weight 1
            }
        }
        """;

    private static async Task<(int ExitCode, JsonDocument Report, string Text)> DoctorAsync(LanHost host, string file, int listenSeconds)
    {
        CommandResult json = await host.RunAsync(Binary, ["doctor", "-f", file, "--listen", $"{listenSeconds}", "--json"], TimeSpan.FromSeconds(60));
        CommandResult text = await host.RunAsync(Binary, ["doctor", "-f", file, "--listen", "0"], TimeSpan.FromSeconds(60));
        return (json.ExitCode, JsonDocument.Parse(json.StandardOutput), text.StandardOutput + text.StandardError);
    }

    [Fact]
    public async Task A_node_behind_an_nft_rule_dropping_protocol_112_is_reported_with_the_rule_and_exit_1()
    {
        using var files = new ScenarioFiles();
        await using var lan = await Lan.CreateAsync(output.WriteLine, "lb1");
        LanHost lb1 = lan.Host("lb1");
        string file = files.Write("lb1.conf", NodeConfig(lb1));

        var (cleanExit, clean, _) = await DoctorAsync(lb1, file, 1);
        using (clean)
        {
            Assert.True(cleanExit == 0, clean.RootElement.ToString());
            Assert.True(clean.RootElement.GetProperty("ready").GetBoolean());
        }

        (await lb1.RunAsync("nft", "add", "table", "inet", "filter")).EnsureSuccess("nft add table");
        (await lb1.RunAsync("nft", "add", "chain", "inet", "filter", "input", "{ type filter hook input priority 0; policy accept; }")).EnsureSuccess("nft add chain");
        CommandResult added = (await lb1.RunAsync("nft", "--echo", "--handle", "add", "rule", "inet", "filter", "input", "ip", "protocol", "vrrp", "drop")).EnsureSuccess("nft add rule");
        string handle = HandleOf().Match(added.StandardOutput).Groups[1].Value;
        Assert.NotEqual("", handle);

        var (exit, report, text) = await DoctorAsync(lb1, file, 1);
        using (report)
        {
            output.WriteLine(text);
            Assert.Equal(1, exit);
            Assert.False(report.RootElement.GetProperty("ready").GetBoolean());
            JsonElement finding = Assert.Single(report.RootElement.GetProperty("findings").EnumerateArray(),
                f => f.GetProperty("check").GetString() == "firewall" && f.GetProperty("severity").GetString() == "error");
            Assert.Contains($"table inet filter, chain input, handle {handle}: \"ip protocol vrrp drop\" drops VRRP adverts from the other nodes on {lb1.Interfaces[0].Name}",
                finding.GetProperty("what").GetString(), StringComparison.Ordinal);
            Assert.Contains($"nft insert rule inet filter input iifname \"{lb1.Interfaces[0].Name}\" ip daddr 224.0.0.18 ip protocol vrrp accept", finding.GetProperty("fix").GetString(), StringComparison.Ordinal);
            Assert.Contains("error    firewall", text, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_third_router_using_the_same_VRID_is_reported_with_its_address_and_priority()
    {
        using var files = new ScenarioFiles();
        await using var lan = await Lan.CreateAsync(output.WriteLine, "lb1", "other");
        var (lb1, other) = (lan.Host("lb1"), lan.Host("other"));
        string file = files.Write("lb1.conf", NodeConfig(lb1));

        // Another team's keepalived on the same LAN, same virtual_router_id, its own VIP.
        StartKeepalived(other, files, $$"""
            vrrp_instance THEIRS {
                state MASTER
                interface {{other.Interfaces[0].Name}}
                virtual_router_id 51
                priority 200
                advert_int 1
                virtual_ipaddress {
                    198.18.0.222/24
                }
            }
            """);

        await WaitUntilMasterAsync(other, "198.18.0.222");

        var (exit, report, _) = await DoctorAsync(lb1, file, 3);
        using (report)
        {
            output.WriteLine(report.RootElement.ToString());
            Assert.Equal(1, exit);
            JsonElement router = Assert.Single(report.RootElement.GetProperty("routers").EnumerateArray());
            Assert.Equal(other.Address.ToString(), router.GetProperty("source").GetString());
            Assert.Equal(200, router.GetProperty("priority").GetInt32());
            Assert.Equal(51, router.GetProperty("vrid").GetInt32());
            Assert.Equal(2, router.GetProperty("version").GetInt32());
            Assert.InRange(router.GetProperty("adverts").GetInt32(), 2, 4);
            JsonElement collision = Assert.Single(report.RootElement.GetProperty("findings").EnumerateArray(),
                f => f.GetProperty("check").GetString() == "vrrp" && f.GetProperty("severity").GetString() == "error");
            Assert.Contains($"VRID collision: router {other.Address} on {lb1.Interfaces[0].Name} (VRID 51, priority 200, VRRPv2", collision.GetProperty("what").GetString(), StringComparison.Ordinal);
            Assert.Contains("VIPs 198.18.0.222", collision.GetProperty("what").GetString(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_peer_whose_adverts_this_node_would_reject_is_reported_with_the_reason()
    {
        using var files = new ScenarioFiles();
        await using var lan = await Lan.CreateAsync(output.WriteLine, "lb1", "lb2");
        var (lb1, lb2) = (lan.Host("lb1"), lan.Host("lb2"));
        string file = files.Write("lb1.conf", NodeConfig(lb1).Replace("advert_int 1", $"advert_int 1\n    {PassAuth}", StringComparison.Ordinal));

        // The other node of the same virtual router, with another password: each would ignore the other.
        StartKeepalived(lb2, files, Instance(lb2, 150, extra: PassAuth.Replace("secret1", "secret2", StringComparison.Ordinal)));
        await WaitUntilMasterAsync(lb2, Vip.ToString());

        var (exit, report, _) = await DoctorAsync(lb1, file, 3);
        using (report)
        {
            output.WriteLine(report.RootElement.ToString());
            Assert.Equal(1, exit);
            JsonElement router = Assert.Single(report.RootElement.GetProperty("routers").EnumerateArray());
            Assert.Equal((lb2.Address.ToString(), 150, "PASS"), (router.GetProperty("source").GetString(), router.GetProperty("priority").GetInt32(), router.GetProperty("authentication").GetString()));
            JsonElement rejected = Assert.Single(report.RootElement.GetProperty("findings").EnumerateArray(),
                f => f.GetProperty("check").GetString() == "vrrp" && f.GetProperty("severity").GetString() == "error");
            Assert.Contains($"router {lb2.Address} on {lb1.Interfaces[0].Name} (VRID 51, priority 150", rejected.GetProperty("what").GetString(), StringComparison.Ordinal);
            Assert.Contains("this node would reject its adverts: its auth_pass differs", rejected.GetProperty("what").GetString(), StringComparison.Ordinal);
        }
    }

    /// <summary>keepalived waits Master_Down_Interval before it becomes master and starts advertising.</summary>
    private static async Task WaitUntilMasterAsync(LanHost host, string vip)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!(await host.GetIPv4AddressesAsync(host.Interfaces[0].Name)).Any(a => a.Address.ToString() == vip))
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(15), $"keepalived on {host.Name} did not become master");
            await Task.Delay(100);
        }
    }

    [GeneratedRegex(@"# handle (\d+)")]
    private static partial Regex HandleOf();
}
