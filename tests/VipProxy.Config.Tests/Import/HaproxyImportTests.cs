using VipProxy.Config.Import;
using VipProxy.Config.Model;

namespace VipProxy.Config.Tests.Import;

/// <summary>
/// <c>vipproxy import haproxy</c> on configs written the way HAProxy users write them for MySQL/MyCat: the output
/// must load in VipProxy's own parser with no error, mean the same thing, and keep what it cannot map as comments.
/// </summary>
public class HaproxyImportTests
{
    private const string MySqlListen = """
        global
            log /dev/log local0
            maxconn 4096
            daemon

        defaults
            mode tcp
            log global
            option tcplog
            option dontlognull
            retries 3
            timeout connect 5s
            timeout client 8h
            timeout server 8h

        listen mycat_data
            bind 198.18.0.200:8066
            balance roundrobin
            option mysql-check user haproxy_check post-41
            stick-table type ip size 200k expire 30m
            stick on src
            maxconn 2000
            server mycat1 198.18.1.1:8066 check inter 2s rise 2 fall 3 weight 1
            server mycat2 198.18.1.2:8066 check inter 2s rise 2 fall 3 weight 1 send-proxy-v2
            server mycat3 198.18.1.3:8066 check inter 2000 rise 3 fall 2 backup

        listen stats
            bind 198.18.0.200:8404
            mode http
            stats enable
            stats uri /stats
        """;

    [Fact]
    public void A_mysql_listen_section_becomes_a_virtual_server_that_loads_with_the_same_meaning()
    {
        HaproxyImport imported = HaproxyImporter.Convert(MySqlListen);
        Assert.Equal(1, imported.VirtualServers);
        KeepalivedConfig config = Load(imported.Text);
        VirtualServer vs = Assert.Single(config.VirtualServers);
        Assert.Equal("198.18.0.200:8066", vs.Endpoint.ToString());
        Assert.Equal(SchedulingAlgorithm.RoundRobin, vs.Algorithm);
        Assert.Equal(TimeSpan.FromMinutes(30), vs.PersistenceTimeout);
        Assert.Equal(TimeSpan.FromSeconds(5), vs.ProxyConnectTimeout);
        Assert.Equal(TimeSpan.FromHours(8), vs.IdleTimeout);
        Assert.Equal(2000, vs.MaxConnections);
        Assert.Equal(3, vs.RealServers.Count);
        Assert.Equal(["198.18.1.1:8066", "198.18.1.2:8066", "198.18.1.3:8066"], vs.RealServers.Select(r => r.Endpoint.ToString()));

        // option mysql-check user X → MYSQL_CHECK { user X }; inter 2s, fall 3, rise 2 → delay_loop 2, retry 2, rise 2.
        Assert.Contains("MYSQL_CHECK {\n            user haproxy_check\n            delay_loop 2\n            connect_timeout 5\n            retry 2\n            delay_before_retry 2\n            rise 2\n", imported.Text, StringComparison.Ordinal);
        Assert.Contains("rise 3", imported.Text, StringComparison.Ordinal);
        Assert.Contains("retry 1", imported.Text, StringComparison.Ordinal);
        Assert.Contains("        send_proxy_v2\n", imported.Text, StringComparison.Ordinal);

        // The http stats listener is refused with a reason, not silently dropped.
        Assert.Contains("# haproxy: listen stats (haproxy.cfg:", imported.Text, StringComparison.Ordinal);
        Assert.Contains("is 'mode http': VipProxy forwards TCP only", imported.Text, StringComparison.Ordinal);
        Assert.Contains("section 'global'", imported.Text, StringComparison.Ordinal);
    }

    [Fact]
    public void Frontend_and_backend_pairs_leastconn_and_source_map_to_schedulers_and_unmapped_directives_become_comments()
    {
        const string text = """
            defaults
                mode tcp
                timeout connect 3000

            frontend mysql_rw
                bind 198.18.0.200:3306,198.18.0.201:3306
                acl blocked src 198.18.9.0/24
                tcp-request connection reject if blocked
                default_backend mysql_primary

            backend mysql_primary
                balance leastconn
                default-server inter 1s fall 2 rise 1
                server db1 198.18.1.1:3306 check weight 10 maxconn 500
                server db2 198.18.1.2:3306 check weight 5 port 9200

            frontend mysql_ro
                bind 198.18.0.200:3307
                default_backend mysql_replicas

            backend mysql_replicas
                balance source
                hash-type consistent
                server db3 198.18.1.3:3306 check
            """;
        HaproxyImport imported = HaproxyImporter.Convert(text, "lb.cfg");
        Assert.Equal(3, imported.VirtualServers);
        KeepalivedConfig config = Load(imported.Text);
        Assert.Equal(["198.18.0.200:3306", "198.18.0.200:3307", "198.18.0.201:3306"], config.VirtualServers.Select(v => v.Endpoint.ToString()).Order(StringComparer.Ordinal));
        VirtualServer rw = config.VirtualServers.First(v => v.Endpoint.Port == 3306);
        Assert.Equal(SchedulingAlgorithm.WeightedLeastConnection, rw.Algorithm);
        Assert.Equal(TimeSpan.FromSeconds(3), rw.ProxyConnectTimeout);
        Assert.Equal([10, 5], rw.RealServers.Select(r => r.Weight));
        Assert.Equal(500, rw.RealServers[0].MaxConnections);
        Assert.Contains("connect_port 9200", imported.Text, StringComparison.Ordinal);
        Assert.Contains("TCP_CHECK {", imported.Text, StringComparison.Ordinal);
        Assert.Equal(SchedulingAlgorithm.SourceHashing, config.VirtualServers.Single(v => v.Endpoint.Port == 3307).Algorithm);
        Assert.Contains("# haproxy: lb.cfg:7: acl blocked src 198.18.9.0/24: content rules are not implemented", imported.Text, StringComparison.Ordinal);
        Assert.Contains("lb.cfg:8: tcp-request connection reject if blocked", imported.Text, StringComparison.Ordinal);
        Assert.Contains("hash-type consistent: the sh and mh schedulers have their own hashing", imported.Text, StringComparison.Ordinal);
    }

    [Fact]
    public void A_wildcard_bind_is_imported_with_a_placeholder_the_operator_is_told_to_replace()
    {
        const string text = """
            listen mycat
                mode tcp
                bind *:8066
                server m1 198.18.1.1:8066 check
            """;
        HaproxyImport imported = HaproxyImporter.Convert(text);
        Assert.Contains("listens on every address; VipProxy listens on its VIP: replace 0.0.0.0 with it", imported.Text, StringComparison.Ordinal);
        Assert.Contains("virtual_server 0.0.0.0 8066 {", imported.Text, StringComparison.Ordinal);
    }

    [Fact]
    public void A_file_without_tcp_proxies_produces_no_virtual_server()
    {
        HaproxyImport imported = HaproxyImporter.Convert("frontend web\n    mode http\n    bind 198.18.0.1:80\n    default_backend app\nbackend app\n    server a 198.18.1.1:8080\n");
        Assert.Equal(0, imported.VirtualServers);
        Assert.Contains("is 'mode http'", imported.Text, StringComparison.Ordinal);
    }

    private static KeepalivedConfig Load(string text)
    {
        ConfigLoadResult loaded = ConfigLoader.LoadText("imported.conf", text);
        Assert.True(loaded.Config is not null, text + "\n" + string.Join('\n', loaded.Errors));
        return loaded.Config!;
    }
}
