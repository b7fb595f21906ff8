using System.Net;
using VipProxy.Config.Model;
using VipProxy.Vrrp.Protocol;
using VipProxy.Vrrp.Runtime;
using VipProxy.Vrrp.Tests.Support;

namespace VipProxy.Vrrp.Tests.Runtime;

public sealed class TrackingAndScriptTests
{
    [Theory]
    // up, weight, reverse → faulted, delta (keepalived's weight semantics)
    [InlineData(true, 0, false, false, 0)]
    [InlineData(false, 0, false, true, 0)]
    [InlineData(true, 0, true, true, 0)]      // weight 0 reverse: Fault while the script succeeds
    [InlineData(false, 0, true, false, 0)]
    [InlineData(true, 20, false, false, 20)]  // positive: added while up
    [InlineData(false, 20, false, false, 0)]
    [InlineData(true, -20, false, false, 0)]  // negative: subtracted while down
    [InlineData(false, -20, false, false, -20)]
    [InlineData(true, 20, true, false, 0)]    // reverse: the weight applies on the opposite result
    [InlineData(false, 20, true, false, 20)]
    [InlineData(true, -20, true, false, -20)]
    public void Contribution_follows_keepalived(bool up, int weight, bool reverse, bool faulted, int delta) =>
        Assert.Equal((faulted, delta), TrackingRules.Contribution(up, weight, reverse));

    [Fact]
    public void Hysteresis_needs_fall_failures_to_go_down_and_rise_successes_to_come_back()
    {
        var script = new ScriptHysteresis(rise: 2, fall: 3, initFail: false);
        Assert.True(script.IsUp);
        Assert.False(script.Record(false));
        Assert.False(script.Record(false));
        Assert.False(script.Record(true)); // the failure streak is broken
        Assert.False(script.Record(false));
        Assert.False(script.Record(false));
        Assert.True(script.Record(false));
        Assert.False(script.IsUp);
        Assert.False(script.Record(true));
        Assert.True(script.Record(true));
        Assert.True(script.IsUp);
    }

    [Fact]
    public void Hysteresis_with_init_fail_starts_down()
    {
        var script = new ScriptHysteresis(rise: 1, fall: 1, initFail: true);
        Assert.False(script.IsUp);
        Assert.True(script.Record(true));
    }

    [Fact]
    public void Notify_runs_the_state_script_then_notify_with_INSTANCE_name_state_priority()
    {
        var config = TestConfig.Instance("notify_master \"/bin/m.sh a\"\n notify /bin/n.sh");
        var notify = config.VrrpInstances[0].Notify;
        var runs = NotifyRunner.InvocationsFor(notify, "VI_1", NotifyState.Master, 120, new ScriptAccount("nobody", null));
        Assert.Equal([["/bin/m.sh", "a"], ["/bin/n.sh", "INSTANCE", "VI_1", "MASTER", "120"]], runs.Select(r => r.Arguments.ToArray()));
        Assert.All(runs, r => Assert.Equal("nobody", r.User!.User));
        Assert.Equal(["/bin/n.sh", "INSTANCE", "VI_1", "FAULT", "1"], NotifyRunner.InvocationsFor(notify, "VI_1", NotifyState.Fault, 1, null).Single().Arguments);
    }

    [Fact]
    public void The_options_map_from_the_config_model_with_keepalived_defaults()
    {
        var config = TestConfig.Parse("""
            vrrp_instance VI_1 {
                state MASTER
                interface eth0
                virtual_router_id 51
                priority 150
                advert_int 2
                nopreempt
                authentication {
                    auth_type PASS
                    auth_pass secret1
                }
                virtual_ipaddress {
                    198.18.0.100/24
                }
                virtual_ipaddress_excluded {
                    198.18.0.200/32
                }
                garp_master_delay 3
                garp_master_repeat 2
                garp_lower_prio_repeat 1
            }
            """);
        var options = OptionsMapper.Map(config.VrrpInstances[0], config.Global, IPAddress.Parse("198.18.0.1"));

        Assert.Equal(VrrpVersion.V2, options.Version);
        Assert.Equal(51, options.VirtualRouterId);
        Assert.Equal(150, options.Priority);
        Assert.Equal(TimeSpan.FromSeconds(2), options.AdvertisementInterval);
        Assert.True(options.Preempt); // state MASTER clears nopreempt, as keepalived does
        Assert.Equal(VrrpAuthType.SimplePassword, options.AuthType);
        Assert.Equal("secret1", options.AuthPassword);
        Assert.Equal([IPAddress.Parse("198.18.0.100")], options.VirtualAddresses); // excluded ones are not advertised
        Assert.Equal(TimeSpan.FromSeconds(3), options.GarpMasterDelay);
        Assert.Equal(2, options.GarpMasterRepeat);
        Assert.Equal((1, TimeSpan.FromSeconds(3)), (options.EffectiveGarpLowerPriorityRepeat, options.EffectiveGarpLowerPriorityDelay));
        Assert.True(options.CheckTtl);
        Assert.Empty(options.Validate());
    }

    [Theory]
    [InlineData("global", 0)]
    [InlineData("site", 200)]
    [InlineData("link", 253)]
    [InlineData("host", 254)]
    [InlineData("nowhere", 255)]
    [InlineData("42", 42)]
    public void Scopes_map_to_rtnetlink_numbers(string scope, byte expected) => Assert.Equal(expected, OptionsMapper.ParseScope(scope));

    [Fact]
    public void The_instance_holding_an_address_is_found_among_advertised_and_excluded_VIPs()
    {
        var config = TestConfig.Instance("virtual_ipaddress_excluded {\n 198.18.0.201\n }");
        Assert.Equal("VI_1", VrrpService.InstanceForAddress(config, IPAddress.Parse("198.18.0.100")));
        Assert.Equal("VI_1", VrrpService.InstanceForAddress(config, IPAddress.Parse("198.18.0.201")));
        Assert.Null(VrrpService.InstanceForAddress(config, IPAddress.Parse("198.18.0.1")));
    }
}
