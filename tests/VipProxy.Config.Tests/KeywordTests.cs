using System.Net;
using VipProxy.Config.Model;
using VipProxy.Core.ProxyProtocol;
using static VipProxy.Config.Tests.ConfigAssert;

namespace VipProxy.Config.Tests;

/// <summary>Each keyword, read from a snippet, lands in the model with the right value; each default is keepalived's.</summary>
public class KeywordTests
{
    public static TheoryData<string, Func<GlobalDefinitions, object?>, object?> GlobalCases => new()
    {
        { "", g => g.VrrpVersion, 2 },
        { "", g => g.Garp, GarpSettings.Default },
        { "", g => g.MulticastGroup, IPAddress.Parse("224.0.0.18") },
        { "router_id lb1", g => g.RouterId, "lb1" },
        { "script_user mycat", g => g.ScriptUser, new ScriptAccount("mycat", null) },
        { "script_user mycat staff", g => g.ScriptUser, new ScriptAccount("mycat", "staff") },
        { "enable_script_security", g => g.EnableScriptSecurity, true },
        { "vrrp_version 3", g => g.VrrpVersion, 3 },
        { "vrrp_skip_check_adv_addr", g => g.SkipCheckAdvertAddresses, true },
        { "vrrp_mcast_group4 224.0.0.19", g => g.MulticastGroup, IPAddress.Parse("224.0.0.19") },
        { "vrrp_garp_master_delay 10", g => g.Garp.MasterDelay, TimeSpan.FromSeconds(10) },
        { "vrrp_garp_master_repeat 3", g => g.Garp.MasterRepeat, 3 },
        { "vrrp_garp_master_refresh 60", g => g.Garp.MasterRefresh, TimeSpan.FromSeconds(60) },
        { "vrrp_garp_master_refresh_repeat 2", g => g.Garp.MasterRefreshRepeat, 2 },
        { "vrrp_garp_interval 0.001", g => g.Garp.Interval, TimeSpan.FromMilliseconds(1) },
        { "", g => (g.Garp.LowerPriorityDelay, g.Garp.LowerPriorityRepeat), ((TimeSpan?)null, (int?)null) },
        { "vrrp_garp_lower_prio_delay 2\nvrrp_garp_lower_prio_repeat 0", g => (g.Garp.LowerPriorityDelay, g.Garp.LowerPriorityRepeat), ((TimeSpan?)TimeSpan.FromSeconds(2), (int?)0) },
        { "", g => g.MetricsListen, null },
        { "metrics_listen 9469", g => g.MetricsListen, new IPEndPoint(IPAddress.Loopback, 9469) },
        { "metrics_listen 198.18.0.1 9100", g => g.MetricsListen, new IPEndPoint(IPAddress.Parse("198.18.0.1"), 9100) },
        { "", g => (g.ForwarderThreads, g.LogConnections), ((int?)null, true) },
        { "forwarder_threads 2", g => g.ForwarderThreads, 2 },
        { "log_connections off", g => g.LogConnections, false },
        { "log_connections on", g => g.LogConnections, true },
        { "", g => g.StateFile, "/var/lib/vipproxy/state.json" },
        { "state_file /srv/vipproxy/state.json", g => g.StateFile, "/srv/vipproxy/state.json" },
    };

    [Theory]
    [MemberData(nameof(GlobalCases))]
    public void Global_defs(string line, Func<GlobalDefinitions, object?> read, object? expected) =>
        Assert.Equal(expected, read(Valid($"global_defs {{\n {line}\n}}\n").Global));

    public static TheoryData<string, Func<VrrpScript, object?>, object?> ScriptCases => new()
    {
        { "", s => s.Interval, TimeSpan.FromSeconds(1) },
        { "", s => s.Timeout, TimeSpan.FromSeconds(1) },
        { "", s => (s.Weight, s.Rise, s.Fall, s.InitFail), (0, 1, 1, false) },
        { "", s => s.Script.Arguments, new ValueList<string>(["/usr/bin/killall", "-0", "mycat"]) },
        { "interval 2", s => s.Timeout, TimeSpan.FromSeconds(2) },
        { "timeout 0.5", s => s.Timeout, TimeSpan.FromMilliseconds(500) },
        { "weight -20", s => s.Weight, -20 },
        { "weight 10 reverse", s => (s.Weight, s.WeightReverse), (10, true) },
        { "rise 3", s => s.Rise, 3 },
        { "fall 2", s => s.Fall, 2 },
        { "user nobody nogroup", s => s.User, new ScriptAccount("nobody", "nogroup") },
        { "init_fail", s => s.InitFail, true },
    };

    [Theory]
    [MemberData(nameof(ScriptCases))]
    public void Vrrp_script(string line, Func<VrrpScript, object?> read, object? expected) =>
        Assert.Equal(expected, read(Valid($"vrrp_script chk_mycat {{\n script \"/usr/bin/killall -0 mycat\"\n {line}\n}}\n").VrrpScripts.Single()));

    public static TheoryData<string, Func<VrrpInstance, object?>, object?> InstanceCases => new()
    {
        { "", i => i.InitialState, VrrpInitialState.Backup },
        { "", i => i.Priority, 100 },
        { "", i => i.AdvertInterval, TimeSpan.FromSeconds(1) },
        { "", i => i.Version, 2 },
        { "", i => i.Preempt, true },
        { "", i => i.Authentication, null },
        { "", i => i.TrackVirtualServers, true },
        { "", i => i.VirtualIpAddresses.Single(), new VirtualIpAddress(IPAddress.Parse("198.18.0.100"), 32, null, null, "global", null) },
        { "state MASTER", i => i.InitialState, VrrpInitialState.Master },
        { "priority 150", i => i.Priority, 150 },
        { "advert_int 3", i => i.AdvertInterval, TimeSpan.FromSeconds(3) },
        { "version 3\nadvert_int 0.1", i => (i.Version, i.AdvertInterval), (3, TimeSpan.FromMilliseconds(100)) },
        { "authentication {\n auth_type PASS\n auth_pass 1111\n}", i => i.Authentication, new VrrpAuthentication("1111") },
        { "nopreempt", i => i.Preempt, false },
        { "preempt_delay 30", i => i.PreemptDelay, TimeSpan.FromSeconds(30) },
        { "unicast_src_ip 198.18.0.1", i => i.UnicastSourceIp, IPAddress.Parse("198.18.0.1") },
        { "mcast_src_ip 198.18.0.1", i => i.UnicastSourceIp, IPAddress.Parse("198.18.0.1") },
        { "unicast_peer {\n 198.18.0.2\n 198.18.0.3\n}", i => i.UnicastPeers, new ValueList<IPAddress>([IPAddress.Parse("198.18.0.2"), IPAddress.Parse("198.18.0.3")]) },
        { "track_interface {\n eth1\n eth2 weight -30\n}", i => i.TrackInterfaces, new ValueList<TrackedInterface>([new("eth1", 0), new("eth2", -30)]) },
        { "notify_master \"/etc/vipproxy/notify.sh master\"", i => i.Notify.Master?.Arguments, new ValueList<string>(["/etc/vipproxy/notify.sh", "master"]) },
        { "notify_backup /etc/vipproxy/notify.sh backup", i => i.Notify.Backup?.Arguments, new ValueList<string>(["/etc/vipproxy/notify.sh", "backup"]) },
        { "notify_fault /bin/f", i => i.Notify.Fault?.Program, "/bin/f" },
        { "notify_stop /bin/s", i => i.Notify.Stop?.Program, "/bin/s" },
        { "notify /bin/n", i => i.Notify.Any?.Program, "/bin/n" },
        { "garp_master_delay 1", i => i.Garp.MasterDelay, TimeSpan.FromSeconds(1) },
        { "garp_master_repeat 2", i => i.Garp.MasterRepeat, 2 },
        { "garp_lower_prio_delay 1\ngarp_lower_prio_repeat 3", i => (i.Garp.LowerPriorityDelay, i.Garp.LowerPriorityRepeat), ((TimeSpan?)TimeSpan.FromSeconds(1), (int?)3) },
        { "garp_master_refresh 30", i => i.Garp.MasterRefresh, TimeSpan.FromSeconds(30) },
        { "garp_master_refresh_repeat 3", i => i.Garp.MasterRefreshRepeat, 3 },
        { "dont_track_primary", i => i.DontTrackPrimary, true },
        { "dont_track_virtual_servers", i => i.TrackVirtualServers, false },
        {
            "virtual_ipaddress_excluded {\n 198.18.0.101/24 brd 198.18.0.255 dev eth1 scope link label eth1:ex\n}",
            i => i.ExcludedVirtualIpAddresses.Single(),
            new VirtualIpAddress(IPAddress.Parse("198.18.0.101"), 24, IPAddress.Parse("198.18.0.255"), "eth1", "link", "eth1:ex")
        },
    };

    [Theory]
    [MemberData(nameof(InstanceCases))]
    public void Vrrp_instance(string lines, Func<VrrpInstance, object?> read, object? expected) =>
        Assert.Equal(expected, read(Instance(lines)));

    [Fact]
    public void Global_vrrp_version_and_garp_settings_are_instance_defaults()
    {
        KeepalivedConfig config = Valid("global_defs {\n vrrp_version 3\n vrrp_garp_master_repeat 2\n}\n" + MinimalInstance.Replace("interface eth0", "interface eth0\n advert_int 0.5", StringComparison.Ordinal));
        VrrpInstance instance = config.VrrpInstances.Single();
        Assert.Equal((3, 2, TimeSpan.FromMilliseconds(500)), (instance.Version, instance.Garp.MasterRepeat, instance.AdvertInterval));
    }

    [Fact]
    public void Track_script_refers_to_a_vrrp_script_with_an_optional_weight()
    {
        KeepalivedConfig config = Valid("vrrp_script chk {\n script /bin/true\n}\n"
            + MinimalInstance.Replace("interface eth0", "interface eth0\n track_script {\n  chk weight 20\n }", StringComparison.Ordinal));
        Assert.Equal(new TrackedScript("chk", 20), config.VrrpInstances.Single().TrackScripts.Single());
    }

    public static TheoryData<string, Func<VirtualServer, object?>, object?> VirtualServerCases => new()
    {
        { "", v => v.Endpoint, new IPEndPoint(IPAddress.Parse("198.18.0.100"), 8066) },
        { "", v => v.DelayLoop, TimeSpan.FromSeconds(60) },
        { "", v => v.Algorithm, SchedulingAlgorithm.WeightedLeastConnection },
        { "", v => v.PersistenceTimeout, null },
        { "", v => v.PersistenceGranularity, IPAddress.Broadcast },
        { "", v => (v.Quorum, v.Hysteresis), (1, 0) },
        { "", v => v.ProxyConnectTimeout, TimeSpan.FromSeconds(5) },
        { "", v => (v.MaxConnections, v.IdleTimeout), ((int?)null, (TimeSpan?)null) },
        { "delay_loop 3", v => v.DelayLoop, TimeSpan.FromSeconds(3) },
        { "lb_algo rr", v => v.Algorithm, SchedulingAlgorithm.RoundRobin },
        { "lb_algo wrr", v => v.Algorithm, SchedulingAlgorithm.WeightedRoundRobin },
        { "lb_algo lc", v => v.Algorithm, SchedulingAlgorithm.LeastConnection },
        { "lb_algo sh", v => v.Algorithm, SchedulingAlgorithm.SourceHashing },
        { "lb_algo mh", v => v.Algorithm, SchedulingAlgorithm.MaglevHashing },
        { "lb_algo fo", v => v.Algorithm, SchedulingAlgorithm.WeightedFailover },
        { "lvs_sched rr", v => v.Algorithm, SchedulingAlgorithm.RoundRobin },
        { "lb_kind NAT", v => v.Algorithm, SchedulingAlgorithm.WeightedLeastConnection },
        { "persistence_timeout 50", v => v.PersistenceTimeout, TimeSpan.FromSeconds(50) },
        { "persistence_timeout", v => v.PersistenceTimeout, TimeSpan.FromSeconds(360) },
        { "persistence_timeout 0", v => v.PersistenceTimeout, null },
        { "persistence_granularity 255.255.255.0", v => v.PersistenceGranularity, IPAddress.Parse("255.255.255.0") },
        { "sorry_server 198.18.2.1 8066", v => v.SorryServer, new IPEndPoint(IPAddress.Parse("198.18.2.1"), 8066) },
        { "sorry_server_inhibit", v => v.SorryServerInhibit, true },
        { "inhibit_on_failure", v => v.InhibitOnFailure, true },
        { "quorum 2\nhysteresis 1", v => (v.Quorum, v.Hysteresis), (2, 1) },
        { "quorum_up /bin/up", v => v.QuorumUp?.Program, "/bin/up" },
        { "quorum_down \"/bin/down now\"", v => v.QuorumDown?.Arguments.Count, 2 },
        { "alpha\nomega", v => (v.Alpha, v.Omega), (true, true) },
        { "maxconn 1000", v => v.MaxConnections, 1000 },
        { "proxy_connect_timeout 2.5", v => v.ProxyConnectTimeout, TimeSpan.FromSeconds(2.5) },
        { "idle_timeout 3600", v => v.IdleTimeout, TimeSpan.FromHours(1) },
        { "", v => (v.Transparent, v.MaxConnectionsPerSource, v.ConnectionRatePerSource), (false, (int?)null, (ConnectionRateLimit?)null) },
        { "transparent", v => v.Transparent, true },
        { "maxconn_per_source 20", v => v.MaxConnectionsPerSource, 20 },
        { "conn_rate_per_source 100 10", v => v.ConnectionRatePerSource, new ConnectionRateLimit(100, TimeSpan.FromSeconds(10)) },
        { "conn_rate_per_source 5 0.5", v => v.ConnectionRatePerSource, new ConnectionRateLimit(5, TimeSpan.FromMilliseconds(500)) },
    };

    [Theory]
    [MemberData(nameof(VirtualServerCases))]
    public void Virtual_server(string lines, Func<VirtualServer, object?> read, object? expected) =>
        Assert.Equal(expected, read(VirtualServer(lines)));

    public static TheoryData<string, Func<RealServer, object?>, object?> RealServerCases => new()
    {
        { "", r => (r.Weight, r.InhibitOnFailure, r.MaxConnections, r.Checkers.Count), (1, false, (int?)null, 0) },
        { "weight 3", r => r.Weight, 3 },
        { "weight 0", r => r.Weight, 0 },
        { "inhibit_on_failure", r => r.InhibitOnFailure, true },
        { "notify_up /bin/up", r => r.NotifyUp?.Program, "/bin/up" },
        { "notify_down /bin/down", r => r.NotifyDown?.Program, "/bin/down" },
        { "uthreshold 100", r => r.MaxConnections, 100 },
        { "maxconn 50", r => r.MaxConnections, 50 },
        { "TCP_CHECK {\n}", r => r.Checkers.Single(), new TcpCheck(new CheckSettings(null, null, null, TimeSpan.FromSeconds(5), 1, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(60), TimeSpan.FromSeconds(60))) },
        {
            "TCP_CHECK {\n connect_ip 198.18.1.9\n connect_port 9066\n bindto 198.18.0.1\n connect_timeout 3\n retry 2\n delay_before_retry 0.5\n warmup 1\n delay_loop 2\n}",
            r => r.Checkers.Single().Settings,
            new CheckSettings(IPAddress.Parse("198.18.1.9"), 9066, IPAddress.Parse("198.18.0.1"), TimeSpan.FromSeconds(3), 2, TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2))
        },
        { "TCP_CHECK {\n nb_get_retry 4\n}", r => r.Checkers.Single().Settings.Retry, 4 },
        { "connect_timeout 2\nTCP_CHECK {\n}", r => r.Checkers.Single().Settings.ConnectTimeout, TimeSpan.FromSeconds(2) },
        {
            "HTTP_GET {\n url {\n  path /health\n  status_code 200 301-302\n  digest 0123456789ABCDEF0123456789abcdef\n }\n virtualhost db.example\n}",
            r => ((HttpGetCheck)r.Checkers.Single()).Urls.Single(),
            new HttpUrl("/health", new([new StatusCodeRange(200, 200), new StatusCodeRange(301, 302)]), "0123456789abcdef0123456789abcdef")
        },
        { "HTTP_GET {\n url {\n  path /\n }\n}", r => ((HttpGetCheck)r.Checkers.Single()).Urls.Single().StatusCodes.Single(), new StatusCodeRange(200, 299) },
        { "MISC_CHECK {\n misc_path \"/bin/check 1\"\n}", r => (((MiscCheck)r.Checkers.Single()).Path.Arguments.Count, r.Checkers.Single().Settings.Retry), (2, 0) },
        { "MISC_CHECK {\n misc_path /bin/c\n misc_timeout 4\n misc_dynamic\n user nobody\n}", r => r.Checkers.Single() is MiscCheck { MiscTimeout.TotalSeconds: 4, Dynamic: true, User.User: "nobody" }, true },
        {
            "MYSQL_CHECK {\n user check\n password \"p w\"\n database mysql\n connect_timeout 2\n}",
            r => r.Checkers.Single() is MySqlCheck { User: "check", Password: "p w", Database: "mysql", Settings.ConnectTimeout.TotalSeconds: 2 },
            true
        },
        { "TCP_CHECK {\n}\nMYSQL_CHECK {\n user u\n password p\n}", r => r.Checkers.Select(c => c.Keyword).ToArray(), new[] { "TCP_CHECK", "MYSQL_CHECK" } },
        { "", r => (r.SendProxy, r.CheckSendProxy), (ProxyProtocolVersion.None, false) },
        { "send_proxy", r => r.SendProxy, ProxyProtocolVersion.V1 },
        { "send_proxy_v2", r => r.SendProxy, ProxyProtocolVersion.V2 },
        { "send_proxy_v2\ncheck_send_proxy", r => (r.SendProxy, r.CheckSendProxy), (ProxyProtocolVersion.V2, true) },
    };

    [Theory]
    [MemberData(nameof(RealServerCases))]
    public void Real_server(string lines, Func<RealServer, object?> read, object? expected) =>
        Assert.Equal(expected, read(RealServer(lines)));

    [Fact]
    public void Checker_timing_is_inherited_from_the_virtual_server()
    {
        VirtualServer vs = VirtualServer("delay_loop 3\nretry 3\nreal_server 198.18.1.1 3306 {\n TCP_CHECK {\n }\n}");
        CheckSettings settings = vs.RealServers.Single().Checkers.Single().Settings;
        Assert.Equal((TimeSpan.FromSeconds(3), 3, TimeSpan.FromSeconds(3)), (settings.DelayLoop, settings.Retry, settings.Warmup));
    }

    [Fact]
    public void Virtual_server_inhibit_on_failure_is_the_real_server_default() =>
        Assert.True(VirtualServer("inhibit_on_failure\nreal_server 198.18.1.1 3306 {\n}").RealServers.Single().InhibitOnFailure);

    [Fact]
    public void Virtual_server_send_proxy_is_the_real_server_default_and_a_real_server_may_override_it()
    {
        VirtualServer vs = VirtualServer("send_proxy_v2\ncheck_send_proxy\nreal_server 198.18.1.1 3306 {\n}\nreal_server 198.18.1.2 3306 {\n send_proxy\n}");
        Assert.Equal(
            [(ProxyProtocolVersion.V2, true), (ProxyProtocolVersion.V1, true)],
            vs.RealServers.Select(r => (r.SendProxy, r.CheckSendProxy)).ToArray());
    }
}
