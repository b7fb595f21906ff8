using System.Net;
using System.Text.Json;
using VipProxy.Host.Doctor;
using VipProxy.Vrrp.Protocol;
using static VipProxy.Host.Tests.Doctor.DoctorHosts;

namespace VipProxy.Host.Tests.Doctor;

/// <summary>Issue 20's doctor, the pure part: a file and a described host in, findings with fixes out.</summary>
public sealed class DoctorAnalysisTests
{
    [Fact]
    public void A_healthy_host_has_nothing_that_blocks()
    {
        DoctorResult result = DoctorAnalysis.Analyze(NodeConfig(PassAuth), Hearing(Healthy(), Advert(Peer)));
        Assert.False(result.Blocks, string.Join("\n", result.Findings));
        Assert.DoesNotContain(result.Findings, f => f.Severity is DoctorSeverity.Warning or DoctorSeverity.Error);
        Assert.Contains(result.Findings, f => f.Severity == DoctorSeverity.Ok && f.What.Contains("peer router 198.18.0.2", StringComparison.Ordinal));
    }

    [Fact]
    public void Missing_capabilities_block_and_name_the_capability_with_the_fix()
    {
        DoctorResult result = DoctorAnalysis.Analyze(NodeConfig(port: 80), Healthy() with { EffectiveCapabilities = 0 });
        Assert.True(result.Blocks);
        var missing = result.Problems(DoctorAnalysis.CapabilitiesCheck).ToList();
        Assert.Equal(3, missing.Count);
        Assert.Contains(missing, f => f.What.Contains("CAP_NET_ADMIN", StringComparison.Ordinal));
        Assert.Contains(missing, f => f.What.Contains("CAP_NET_RAW", StringComparison.Ordinal));
        Assert.Contains(missing, f => f.What.Contains("CAP_NET_BIND_SERVICE", StringComparison.Ordinal));
        Assert.All(missing, f => Assert.Contains("--cap-add NET_ADMIN --cap-add NET_RAW", f.Fix, StringComparison.Ordinal));
    }

    [Fact]
    public void A_missing_interface_or_one_without_carrier_blocks()
    {
        DoctorResult missing = DoctorAnalysis.Analyze(NodeConfig(), Healthy() with { Links = [] });
        Assert.Contains(missing.Problems(DoctorAnalysis.InterfaceCheck), f => f.Severity == DoctorSeverity.Error && f.What.Contains("eth0 does not exist", StringComparison.Ordinal));

        DoctorResult noCarrier = DoctorAnalysis.Analyze(NodeConfig(), Healthy() with { Links = [Eth0(carrier: false)] });
        DoctorFinding down = Assert.Single(noCarrier.Problems(DoctorAnalysis.InterfaceCheck));
        Assert.Equal(DoctorSeverity.Error, down.Severity);
        Assert.Contains("no carrier", down.What, StringComparison.Ordinal);

        DoctorResult adminDown = DoctorAnalysis.Analyze(NodeConfig(), Healthy() with { Links = [Eth0(up: false)] });
        Assert.Contains("ip link set eth0 up", Assert.Single(adminDown.Problems(DoctorAnalysis.InterfaceCheck)).Fix, StringComparison.Ordinal);

        // dont_track_primary: the instance ignores the link, so it is only a warning.
        DoctorResult ignored = DoctorAnalysis.Analyze(NodeConfig("dont_track_primary"), Healthy() with { Links = [Eth0(carrier: false)] });
        Assert.Equal(DoctorSeverity.Warning, Assert.Single(ignored.Problems(DoctorAnalysis.InterfaceCheck)).Severity);
    }

    [Fact]
    public void A_VIP_outside_the_interface_subnets_is_a_warning()
    {
        DoctorResult inside = DoctorAnalysis.Analyze(NodeConfig(), Healthy());
        Assert.Contains(inside.Of(DoctorAnalysis.AddressCheck), f => f.Severity == DoctorSeverity.Ok && f.What.Contains("subnet 198.18.0.1/24", StringComparison.Ordinal));

        DoctorResult outside = DoctorAnalysis.Analyze(NodeConfig(), Healthy() with { Links = [Eth0(address: "198.19.5.1")] });
        DoctorFinding finding = Assert.Single(outside.Problems(DoctorAnalysis.AddressCheck));
        Assert.Equal(DoctorSeverity.Warning, finding.Severity);
        Assert.Contains("VIP 198.18.0.100 is outside every subnet of eth0 (198.19.5.1/24)", finding.What, StringComparison.Ordinal);
    }

    [Fact]
    public void Strict_rp_filter_on_a_multi_homed_host_and_arp_ignore_8_are_reported()
    {
        var eth1 = new HostLink("eth1", true, true, true, [new("eth1", IPAddress.Parse("198.19.0.1"), 24)]);
        HostSnapshot host = Healthy(eth1) with
        {
            Sysctls = new Dictionary<string, int> { ["all/rp_filter"] = 0, ["eth0/rp_filter"] = 1, ["all/arp_ignore"] = 8, ["eth0/arp_ignore"] = 0 },
        };
        var problems = DoctorAnalysis.Analyze(NodeConfig(), host).Problems(DoctorAnalysis.SysctlCheck).ToList();
        Assert.Contains(problems, f => f.Severity == DoctorSeverity.Warning && f.What.StartsWith("rp_filter is 1", StringComparison.Ordinal)
            && f.Fix!.Contains("rp_filter=2", StringComparison.Ordinal));
        Assert.Contains(problems, f => f.Severity == DoctorSeverity.Error && f.What.StartsWith("arp_ignore is 8", StringComparison.Ordinal));

        // The same rp_filter on a host with one interface cannot see asymmetric routes.
        HostSnapshot single = Healthy() with { Sysctls = new Dictionary<string, int> { ["eth0/rp_filter"] = 1 } };
        Assert.Empty(DoctorAnalysis.Analyze(NodeConfig(), single).Problems(DoctorAnalysis.SysctlCheck));
    }

    [Fact]
    public void Arp_ignore_2_blocks_only_a_VIP_outside_the_interface_subnet()
    {
        HostSnapshot host = Healthy() with { Sysctls = new Dictionary<string, int> { ["eth0/arp_ignore"] = 2 } };
        Assert.Empty(DoctorAnalysis.Analyze(NodeConfig(), host).Problems(DoctorAnalysis.SysctlCheck));
        DoctorFinding finding = Assert.Single(DoctorAnalysis.Analyze(NodeConfig(vip: "198.19.9.9/32"), host).Problems(DoctorAnalysis.SysctlCheck));
        Assert.Equal(DoctorSeverity.Error, finding.Severity);
    }

    [Fact]
    public void A_peer_of_this_virtual_router_is_ok_and_listed_with_its_priority()
    {
        DoctorResult result = DoctorAnalysis.Analyze(NodeConfig(PassAuth), Hearing(Healthy(), Advert(Peer), Advert(Peer)));
        ObservedRouter router = Assert.Single(result.Routers);
        Assert.Equal((Peer, 51, 150, 2, 2, "PASS"), (router.Source, router.VirtualRouterId, router.Priority, router.Version, router.Adverts, router.Authentication));
        Assert.Empty(result.Problems(DoctorAnalysis.VrrpCheck));
    }

    [Fact]
    public void The_same_VRID_for_other_addresses_is_a_collision_naming_the_router_and_its_priority()
    {
        byte[] other = Advert(IPAddress.Parse("198.18.0.7"), priority: 200, vip: "198.18.0.222");
        DoctorResult result = DoctorAnalysis.Analyze(NodeConfig(PassAuth), Hearing(Healthy(), other));
        Assert.True(result.Blocks);
        DoctorFinding collision = Assert.Single(result.Problems(DoctorAnalysis.VrrpCheck));
        Assert.Equal(DoctorSeverity.Error, collision.Severity);
        Assert.Contains("VRID collision: router 198.18.0.7 on eth0 (VRID 51, priority 200", collision.What, StringComparison.Ordinal);
        Assert.Contains("VIPs 198.18.0.222", collision.What, StringComparison.Ordinal);
        Assert.Contains("another virtual_router_id", collision.Fix, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("version", "it speaks VRRPv3 and this instance VRRPv2")]
    [InlineData("password", "its auth_pass differs")]
    [InlineData("interval", "its advert_int is 2 s and this instance's 1 s")]
    [InlineData("no-auth", "its auth type is None and this instance's SimplePassword")]
    public void An_advert_this_node_would_reject_for_its_VRID_blocks_with_the_reason(string mismatch, string reason)
    {
        byte[] advert = mismatch switch
        {
            "version" => Advert(Peer, version: VrrpVersion.V3),
            "password" => Advert(Peer, password: "other"),
            "interval" => Advert(Peer, intervalCentiseconds: 200),
            _ => Advert(Peer, password: null),
        };
        DoctorResult result = DoctorAnalysis.Analyze(NodeConfig(PassAuth), Hearing(Healthy(), advert));
        DoctorFinding finding = Assert.Single(result.Problems(DoctorAnalysis.VrrpCheck));
        Assert.Equal(DoctorSeverity.Error, finding.Severity);
        Assert.Contains("this node would reject its adverts: " + reason, finding.What, StringComparison.Ordinal);
    }

    [Fact]
    public void Other_virtual_routers_and_broken_datagrams_are_reported_without_blocking()
    {
        byte[] broken = Advert(Peer);
        broken[^1] ^= 0xFF; // the VRRP checksum no longer verifies
        DoctorResult result = DoctorAnalysis.Analyze(NodeConfig(PassAuth), Hearing(Healthy(), Advert(IPAddress.Parse("198.18.0.9"), vrid: 7, priority: 42), broken));
        Assert.False(result.Blocks);
        Assert.Contains(result.Of(DoctorAnalysis.VrrpCheck), f => f.Severity == DoctorSeverity.Info && f.What.Contains("router 198.18.0.9 on eth0 (VRID 7, priority 42", StringComparison.Ordinal));
        Assert.Contains(result.Of(DoctorAnalysis.VrrpCheck), f => f.Severity == DoctorSeverity.Warning && f.What.Contains("BadChecksum", StringComparison.Ordinal));
    }

    [Fact]
    public void Silence_and_a_socket_error_are_explained()
    {
        DoctorResult silent = DoctorAnalysis.Analyze(NodeConfig(), Hearing(Healthy()));
        Assert.Contains(silent.Of(DoctorAnalysis.VrrpCheck), f => f.Severity == DoctorSeverity.Info && f.What.StartsWith("no VRRP router heard on eth0 in 3 s", StringComparison.Ordinal));
        DoctorResult refused = DoctorAnalysis.Analyze(NodeConfig(), Healthy() with { Captures = [new VrrpCapture("eth0", TimeSpan.Zero, [], "AccessDenied")] });
        Assert.Contains(refused.Of(DoctorAnalysis.VrrpCheck), f => f.Severity == DoctorSeverity.Warning && f.What.Contains("AccessDenied", StringComparison.Ordinal));
    }

    [Fact]
    public void The_JSON_report_carries_every_finding_and_router()
    {
        byte[] other = Advert(IPAddress.Parse("198.18.0.7"), priority: 200, vip: "198.18.0.222");
        DoctorResult result = DoctorAnalysis.Analyze(NodeConfig(PassAuth), Hearing(Healthy(), other));
        using JsonDocument json = JsonDocument.Parse(DoctorReport.Json(result, "/test/doctor.conf"));
        JsonElement root = json.RootElement;
        Assert.False(root.GetProperty("ready").GetBoolean());
        Assert.Equal(1, root.GetProperty("errors").GetInt32());
        Assert.Equal(result.Findings.Count, root.GetProperty("findings").GetArrayLength());
        JsonElement router = Assert.Single(root.GetProperty("routers").EnumerateArray());
        Assert.Equal("198.18.0.7", router.GetProperty("source").GetString());
        Assert.Equal(200, router.GetProperty("priority").GetInt32());
        Assert.Equal(51, router.GetProperty("vrid").GetInt32());
        Assert.Contains(root.GetProperty("findings").EnumerateArray(), f => f.GetProperty("severity").GetString() == "error" && f.GetProperty("check").GetString() == "vrrp");

        Assert.Contains("\"fix\": \"give one of the two virtual routers another virtual_router_id", DoctorReport.Json(result, "/test/doctor.conf"), StringComparison.Ordinal);
        string text = DoctorReport.Text(result, "/test/doctor.conf");
        Assert.Contains("error    vrrp", text, StringComparison.Ordinal);
        Assert.Contains("fix: give one of the two virtual routers", text, StringComparison.Ordinal);
        Assert.EndsWith("1 error(s), 0 warning(s): this host is not ready for the file\n", text, StringComparison.Ordinal);
    }
}
