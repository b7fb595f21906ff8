using System.Globalization;
using System.Text;
using VipProxy.Config.Model;
using VipProxy.Core.ProxyProtocol;

namespace VipProxy.Config;

/// <summary>
/// Writes the effective model back in keepalived syntax with every default filled in
/// (<c>vipproxy check --dump</c>), so an operator sees what VipProxy will actually do. The output loads again.
/// </summary>
public static class ConfigDumper
{
    public static string Dump(KeepalivedConfig config)
    {
        var w = new Writer();
        DumpGlobal(w, config.Global);
        foreach (VrrpScript script in config.VrrpScripts)
        {
            DumpScript(w, script);
        }

        foreach (VrrpInstance instance in config.VrrpInstances)
        {
            DumpInstance(w, instance);
        }

        foreach (VirtualServer virtualServer in config.VirtualServers)
        {
            DumpVirtualServer(w, virtualServer);
        }

        return w.ToString();
    }

    private static void DumpGlobal(Writer w, GlobalDefinitions g)
    {
        w.Open("global_defs");
        w.LineIf(g.RouterId is not null, $"router_id {g.RouterId}");
        w.LineIf(g.ScriptUser is not null, $"script_user {Account(g.ScriptUser)}");
        w.LineIf(g.EnableScriptSecurity, "enable_script_security");
        w.Line($"vrrp_version {g.VrrpVersion}");
        w.Line($"vrrp_mcast_group4 {g.MulticastGroup}");
        w.LineIf(g.MetricsListen is not null, $"metrics_listen {g.MetricsListen?.Address} {g.MetricsListen?.Port}");
        w.LineIf(g.ForwarderThreads is not null, $"forwarder_threads {g.ForwarderThreads}");
        w.LineIf(!g.LogConnections, "log_connections off");
        w.Line($"state_file {g.StateFile}");
        w.LineIf(g.SkipCheckAdvertAddresses, "vrrp_skip_check_adv_addr");
        w.Line($"vrrp_garp_master_delay {Seconds(g.Garp.MasterDelay)}");
        w.Line($"vrrp_garp_master_repeat {g.Garp.MasterRepeat}");
        w.Line($"vrrp_garp_master_refresh {Seconds(g.Garp.MasterRefresh)}");
        w.Line($"vrrp_garp_master_refresh_repeat {g.Garp.MasterRefreshRepeat}");
        w.Line($"vrrp_garp_interval {Seconds(g.Garp.Interval)}");
        w.LineIf(g.Garp.LowerPriorityDelay is not null, $"vrrp_garp_lower_prio_delay {Seconds(g.Garp.LowerPriorityDelay ?? TimeSpan.Zero)}");
        w.LineIf(g.Garp.LowerPriorityRepeat is not null, $"vrrp_garp_lower_prio_repeat {g.Garp.LowerPriorityRepeat}");
        w.Close();
    }

    private static void DumpScript(Writer w, VrrpScript s)
    {
        w.Open($"vrrp_script {s.Name}");
        w.Line($"script {Quote(s.Script.Text)}");
        w.Line($"interval {Seconds(s.Interval)}");
        w.Line($"timeout {Seconds(s.Timeout)}");
        w.Line($"weight {s.Weight}{(s.WeightReverse ? " reverse" : "")}");
        w.Line($"rise {s.Rise}");
        w.Line($"fall {s.Fall}");
        w.LineIf(s.User is not null, $"user {Account(s.User)}");
        w.LineIf(s.InitFail, "init_fail");
        w.Close();
    }

    private static void DumpInstance(Writer w, VrrpInstance i)
    {
        w.Open($"vrrp_instance {i.Name}");
        w.Line($"state {(i.InitialState == VrrpInitialState.Master ? "MASTER" : "BACKUP")}");
        w.Line($"interface {i.Interface}");
        w.Line($"virtual_router_id {i.VirtualRouterId}");
        w.Line($"priority {i.Priority}");
        w.Line($"advert_int {Seconds(i.AdvertInterval)}");
        w.Line($"version {i.Version}");
        if (i.Authentication is not null)
        {
            w.Open("authentication");
            w.Line("auth_type PASS");
            w.Line($"auth_pass {i.Authentication.Password}");
            w.Close();
        }

        DumpVips(w, "virtual_ipaddress", i.VirtualIpAddresses);
        if (i.ExcludedVirtualIpAddresses.Count > 0)
        {
            DumpVips(w, "virtual_ipaddress_excluded", i.ExcludedVirtualIpAddresses);
        }

        w.LineIf(!i.Preempt, "nopreempt");
        w.Line($"preempt_delay {Seconds(i.PreemptDelay)}");
        w.LineIf(i.UnicastSourceIp is not null, $"unicast_src_ip {i.UnicastSourceIp}");
        if (i.UnicastPeers.Count > 0)
        {
            w.Open("unicast_peer");
            foreach (var peer in i.UnicastPeers)
            {
                w.Line(peer.ToString());
            }

            w.Close();
        }

        if (i.TrackInterfaces.Count > 0)
        {
            w.Open("track_interface");
            foreach (TrackedInterface t in i.TrackInterfaces)
            {
                w.Line($"{t.Name} weight {t.Weight}");
            }

            w.Close();
        }

        if (i.TrackScripts.Count > 0)
        {
            w.Open("track_script");
            foreach (TrackedScript t in i.TrackScripts)
            {
                w.Line(t.Weight is { } weight ? $"{t.Name} weight {weight}" : t.Name);
            }

            w.Close();
        }

        DumpScriptLine(w, "notify_master", i.Notify.Master);
        DumpScriptLine(w, "notify_backup", i.Notify.Backup);
        DumpScriptLine(w, "notify_fault", i.Notify.Fault);
        DumpScriptLine(w, "notify_stop", i.Notify.Stop);
        DumpScriptLine(w, "notify", i.Notify.Any);
        w.Line($"garp_master_delay {Seconds(i.Garp.MasterDelay)}");
        w.Line($"garp_master_repeat {i.Garp.MasterRepeat}");
        w.Line($"garp_master_refresh {Seconds(i.Garp.MasterRefresh)}");
        w.Line($"garp_master_refresh_repeat {i.Garp.MasterRefreshRepeat}");
        w.Line($"garp_interval {Seconds(i.Garp.Interval)}");
        w.LineIf(i.Garp.LowerPriorityDelay is not null, $"garp_lower_prio_delay {Seconds(i.Garp.LowerPriorityDelay ?? TimeSpan.Zero)}");
        w.LineIf(i.Garp.LowerPriorityRepeat is not null, $"garp_lower_prio_repeat {i.Garp.LowerPriorityRepeat}");
        w.LineIf(i.DontTrackPrimary, "dont_track_primary");
        w.LineIf(!i.TrackVirtualServers, "dont_track_virtual_servers");
        w.Close();
    }

    private static void DumpVips(Writer w, string keyword, ValueList<VirtualIpAddress> vips)
    {
        w.Open(keyword);
        foreach (VirtualIpAddress vip in vips)
        {
            w.Line(vip.ToString());
        }

        w.Close();
    }

    private static void DumpVirtualServer(Writer w, VirtualServer v)
    {
        w.Open($"virtual_server {v.Endpoint.Address} {v.Endpoint.Port}");
        w.Line($"delay_loop {Seconds(v.DelayLoop)}");
        w.Line($"lb_algo {v.Algorithm.ToLbAlgoName()}");
        w.Line("lb_kind NAT");
        w.Line("protocol TCP");
        w.LineIf(v.PersistenceTimeout is not null, $"persistence_timeout {(int)(v.PersistenceTimeout?.TotalSeconds ?? 0)}");
        w.Line($"persistence_granularity {v.PersistenceGranularity}");
        w.LineIf(v.SorryServer is not null, $"sorry_server {v.SorryServer?.Address} {v.SorryServer?.Port}");
        w.LineIf(v.SorryServerInhibit, "sorry_server_inhibit");
        w.LineIf(v.InhibitOnFailure, "inhibit_on_failure");
        w.Line($"quorum {v.Quorum}");
        w.Line($"hysteresis {v.Hysteresis}");
        DumpScriptLine(w, "quorum_up", v.QuorumUp);
        DumpScriptLine(w, "quorum_down", v.QuorumDown);
        w.LineIf(v.Alpha, "alpha");
        w.LineIf(v.Omega, "omega");
        w.LineIf(v.MaxConnections is not null, $"maxconn {v.MaxConnections}");
        w.Line($"proxy_connect_timeout {Seconds(v.ProxyConnectTimeout)}");
        w.LineIf(v.IdleTimeout is not null, $"idle_timeout {Seconds(v.IdleTimeout ?? TimeSpan.Zero)}");
        w.LineIf(v.Transparent, "transparent");
        w.LineIf(v.MaxConnectionsPerSource is not null, $"maxconn_per_source {v.MaxConnectionsPerSource}");
        w.LineIf(v.ConnectionRatePerSource is not null, $"conn_rate_per_source {v.ConnectionRatePerSource?.Connections} {Seconds(v.ConnectionRatePerSource?.Period ?? TimeSpan.Zero)}");
        w.LineIf(v.WriterConflict != WriterConflictPolicy.Refuse, $"writer_conflict {v.WriterConflict.ToString().ToLowerInvariant()}");
        w.LineIf(v.TcpKeepalive is not null, $"tcp_keepalive {(int)(v.TcpKeepalive?.Idle.TotalSeconds ?? 0)} {(int)(v.TcpKeepalive?.Interval.TotalSeconds ?? 0)} {v.TcpKeepalive?.Count}");
        foreach (RealServer r in v.RealServers)
        {
            DumpRealServer(w, r);
        }

        w.Close();
    }

    private static void DumpRealServer(Writer w, RealServer r)
    {
        w.Open($"real_server {r.Endpoint.Address} {r.Endpoint.Port}");
        w.Line($"weight {r.Weight}");
        w.LineIf(r.InhibitOnFailure, "inhibit_on_failure");
        DumpScriptLine(w, "notify_up", r.NotifyUp);
        DumpScriptLine(w, "notify_down", r.NotifyDown);
        w.LineIf(r.MaxConnections is not null, $"maxconn {r.MaxConnections}");
        w.LineIf(r.SendProxy == ProxyProtocolVersion.V1, "send_proxy");
        w.LineIf(r.SendProxy == ProxyProtocolVersion.V2, "send_proxy_v2");
        w.LineIf(r.CheckSendProxy, "check_send_proxy");
        w.LineIf(r.Backup, "backup");
        w.LineIf(r.ShutdownSessionsOnDown is not null, $"shutdown_sessions_on_down {r.ShutdownSessionsOnDown?.TotalSeconds.ToString(CultureInfo.InvariantCulture)}");
        w.LineIf(r.SlowStart is not null, $"slowstart {r.SlowStart?.TotalSeconds.ToString(CultureInfo.InvariantCulture)}");
        foreach (HealthCheck check in r.Checkers)
        {
            DumpCheck(w, check);
        }

        w.Close();
    }

    private static void DumpCheck(Writer w, HealthCheck check)
    {
        w.Open(check.Keyword);
        CheckSettings s = check.Settings;
        if (check is not MiscCheck)
        {
            w.LineIf(s.ConnectIp is not null, $"connect_ip {s.ConnectIp}");
            w.LineIf(s.ConnectPort is not null, $"connect_port {s.ConnectPort}");
            w.LineIf(s.BindTo is not null, $"bindto {s.BindTo}");
            w.Line($"connect_timeout {Seconds(s.ConnectTimeout)}");
        }

        w.Line($"retry {s.Retry}");
        w.LineIf(s.Rise != 1, $"rise {s.Rise}");
        w.Line($"delay_before_retry {Seconds(s.DelayBeforeRetry)}");
        w.Line($"warmup {Seconds(s.Warmup)}");
        w.Line($"delay_loop {Seconds(s.DelayLoop)}");
        switch (check)
        {
            case HttpGetCheck http:
                w.LineIf(http.VirtualHost is not null, $"virtualhost {http.VirtualHost}");
                foreach (HttpUrl url in http.Urls)
                {
                    w.Open("url");
                    w.Line($"path {url.Path}");
                    w.Line($"status_code {string.Join(' ', url.StatusCodes)}");
                    w.LineIf(url.Digest is not null, $"digest {url.Digest}");
                    w.Close();
                }

                break;
            case MiscCheck misc:
                w.Line($"misc_path {Quote(misc.Path.Text)}");
                w.Line($"misc_timeout {Seconds(misc.MiscTimeout)}");
                w.LineIf(misc.Dynamic, "misc_dynamic");
                w.LineIf(misc.User is not null, $"user {Account(misc.User)}");
                break;
            case MySqlCheck mysql:
                w.LineIf(mysql.User is not null, $"user {mysql.User}");
                w.LineIf(mysql.Password is not null, $"password {mysql.Password}");
                w.LineIf(mysql.Database is not null, $"database {mysql.Database}");
                w.LineIf(mysql.Role != MySqlRole.Any, $"role {mysql.Role.ToString().ToLowerInvariant()}");
                w.LineIf(mysql.MaxReplicationLag is not null, $"max_replication_lag {mysql.MaxReplicationLag}");
                w.LineIf(mysql.Galera, "galera on");
                w.LineIf(mysql.GaleraDonorOk, "galera_donor_ok on");
                w.LineIf(mysql.LagWeight, "lag_weight on");
                w.LineIf(mysql.Query is not null, $"query {Quote(mysql.Query ?? "")}");
                w.LineIf(mysql.Expect is not null, $"expect {Quote(mysql.Expect ?? "")}");
                w.LineIf(mysql.ExpectRegex is not null, $"expect_regex {Quote(mysql.ExpectRegex ?? "")}");
                break;
        }

        w.Close();
    }

    private static void DumpScriptLine(Writer w, string keyword, ScriptCommand? command) =>
        w.LineIf(command is not null, $"{keyword} {Quote(command?.Text ?? "")}");

    private static string Account(ScriptAccount? account) =>
        account?.Group is null ? account?.User ?? "" : $"{account.User} {account.Group}";

    private static string Quote(string text) => $"\"{text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal)}\"";

    private static string Seconds(TimeSpan value) => value.TotalSeconds.ToString("0.######", CultureInfo.InvariantCulture);

    private sealed class Writer
    {
        private readonly StringBuilder _text = new();
        private int _depth;

        public void Open(string header)
        {
            Line(header + " {");
            _depth++;
        }

        public void Close()
        {
            _depth--;
            Line("}");
        }

        public void Line(string text) => _text.Append(' ', _depth * 4).Append(text).Append('\n');

        public void LineIf(bool condition, string text)
        {
            if (condition)
            {
                Line(text);
            }
        }

        public override string ToString() => _text.ToString();
    }
}
