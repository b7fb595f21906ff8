using System.Net;
using VipProxy.Config.Model;
using static VipProxy.Config.Tests.ConfigAssert;

namespace VipProxy.Config.Tests;

/// <summary>Files written the way people really write them: glued braces, tabs, mixed comments, includes.</summary>
public class RealWorldTests
{
    [Fact]
    public void A_compact_file_with_glued_braces_tabs_and_both_comment_styles()
    {
        string text = "! Configuration File for keepalived\n"
            + "global_defs{\n\trouter_id LVS_DEVEL # the id\n}\n"
            + "vrrp_instance VI_1{\n\tstate MASTER\n\tinterface eth0\n\tvirtual_router_id 51\n\tpriority 100\n\tadvert_int 1\n"
            + "\tauthentication{\n\t\tauth_type PASS\n\t\tauth_pass 1111\n\t}\n"
            + "\tvirtual_ipaddress{\n\t\t192.168.56.200\n\t}}\n"
            + "virtual_server 192.168.56.200 8066{\n\tdelay_loop 6\n\tlb_algo rr\n\tlb_kind NAT\n\tpersistence_timeout 50\n\tprotocol TCP\n"
            + "\treal_server 172.18.0.201 8066{\n\t\tweight 1\n\t\tTCP_CHECK{connect_timeout 3\n\t\t\tretry 3\n\t\t\tdelay_before_retry 3}}}\n";
        KeepalivedConfig config = Valid(text);
        VrrpInstance instance = config.VrrpInstances.Single();
        Assert.Equal(("VI_1", 51, "1111"), (instance.Name, instance.VirtualRouterId, instance.Authentication!.Password));
        Assert.Equal(IPAddress.Parse("192.168.56.200"), instance.VirtualIpAddresses.Single().Address);
        CheckSettings settings = config.VirtualServers.Single().RealServers.Single().Checkers.Single().Settings;
        Assert.Equal((TimeSpan.FromSeconds(3), 3, TimeSpan.FromSeconds(3)), (settings.ConnectTimeout, settings.Retry, settings.DelayBeforeRetry));
    }

    [Fact]
    public void A_block_brace_on_the_next_line()
    {
        string text = "vrrp_instance VI_1\n{\n interface eth0\n virtual_router_id 7\n virtual_ipaddress\n {\n  198.18.0.9/24\n }\n}\n";
        Assert.Equal(24, Valid(text).VrrpInstances.Single().VirtualIpAddresses.Single().PrefixLength);
    }

    [Fact]
    public void One_file_for_both_hosts_with_line_conditionals_and_definitions()
    {
        string text = "$VIP=198.18.0.200\n$IF=eth0\n"
            + "vrrp_instance VI_1 {\n"
            + "@lb1 state MASTER\n@lb1 priority 100\n@lb2 state BACKUP\n@lb2 priority 90\n"
            + " interface $IF\n virtual_router_id 56\n virtual_ipaddress {\n  ${VIP}/24 dev $IF\n }\n}\n"
            + "virtual_server $VIP 8066 {\n protocol TCP\n}\n";
        VrrpInstance lb1 = Valid(text, "lb1").VrrpInstances.Single();
        VrrpInstance lb2 = Valid(text, "lb2").VrrpInstances.Single();
        Assert.Equal((VrrpInitialState.Master, 100), (lb1.InitialState, lb1.Priority));
        Assert.Equal((VrrpInitialState.Backup, 90), (lb2.InitialState, lb2.Priority));
        Assert.Equal("eth0", lb2.VirtualIpAddresses.Single().Device);
        Assert.Equal(IPAddress.Parse("198.18.0.200"), Valid(text, "lb1").VirtualServers.Single().Endpoint.Address);
    }

    [Fact]
    public void Split_files_with_include()
    {
        var files = InMemoryFiles.Of(
            ("/etc/vipproxy/vrrp.conf", MinimalInstance),
            ("/etc/vipproxy/services/8066.conf", "virtual_server 198.18.0.100 8066 {\n protocol TCP\n}"),
            ("/etc/vipproxy/services/9066.conf", "virtual_server 198.18.0.100 9066 {\n protocol TCP\n}"));
        KeepalivedConfig config = Valid("include vrrp.conf\ninclude services/*.conf\n", files: files);
        Assert.Equal([8066, 9066], config.VirtualServers.Select(v => v.Endpoint.Port));
    }

    [Theory]
    [InlineData("vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 1\n state MASTER\n nopreempt\n virtual_ipaddress {\n 198.18.0.1\n }\n}", "'nopreempt' is ignored with 'state MASTER'")]
    [InlineData("vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 1\n version 3\n authentication {\n  auth_type PASS\n  auth_pass x\n }\n virtual_ipaddress {\n 198.18.0.1\n }\n}", "authentication is ignored with VRRPv3")]
    [InlineData("virtual_server 198.18.0.1 80 {\n real_server 198.18.1.1 80 {\n }\n}", "keepalived would default to UDP")]
    [InlineData("virtual_server 198.18.0.1 80 {\n protocol TCP\n real_server 198.18.1.1 80 {\n  MYSQL_CHECK {\n  }\n }\n}", "Aborted_connects")]
    [InlineData("virtual_server 198.18.0.1 80 {\n protocol TCP\n real_server 198.18.1.1 80 {\n  TCP_CHECK {\n   nb_get_retry 2\n  }\n }\n}", "'nb_get_retry' is deprecated")]
    [InlineData("global_defs {\n notification_email {\n  root@localhost\n }\n smtp_server 127.0.0.1\n}", "VipProxy sends no email")]
    [InlineData("global_defs {\n vrrp_strict\n}", "'vrrp_strict' has no effect in VipProxy")]
    [InlineData("virtual_server 198.18.0.1 80 {\n protocol TCP\n quorum 5\n real_server 198.18.1.1 80 {\n }\n}", "quorum 5 can never be met")]
    public void Deprecated_and_no_op_forms_are_warnings(string text, string message) =>
        Assert.Contains(Warnings(text), w => w.Contains(message, StringComparison.Ordinal));

    [Fact]
    public void State_master_with_nopreempt_preempts_like_keepalived() =>
        Assert.True(Valid("vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 1\n state MASTER\n nopreempt\n virtual_ipaddress {\n 198.18.0.1\n }\n}").VrrpInstances.Single().Preempt);

    [Fact]
    public void Unchanged_blocks_compare_equal_so_a_reload_can_keep_them()
    {
        string text = MinimalInstance + "\nvirtual_server 198.18.0.100 8066 {\n protocol TCP\n real_server 198.18.1.1 3306 {\n  weight 1\n }\n}\n";
        KeepalivedConfig before = Valid(text);
        KeepalivedConfig after = Valid("# a comment moves every line\n\n" + text.Replace("weight 1", "weight 2", StringComparison.Ordinal));
        Assert.Equal(before.VrrpInstances, after.VrrpInstances);
        Assert.NotEqual(before.VirtualServers, after.VirtualServers);
    }
}
