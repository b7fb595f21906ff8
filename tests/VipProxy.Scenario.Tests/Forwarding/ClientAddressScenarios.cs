using System.Globalization;
using System.Net;
using VipProxy.Lab;
using Xunit.Abstractions;
using static VipProxy.Scenario.Tests.Forwarding.ForwardingConfig;

namespace VipProxy.Scenario.Tests.Forwarding;

/// <summary>
/// Real servers see the client's own address, the two ways VipProxy offers (README, "Client addresses"): a PROXY
/// protocol header (nginx <c>listen … proxy_protocol</c>, MariaDB <c>proxy-protocol-networks</c>), or a
/// <c>transparent</c> virtual server whose connects come from the client's IP (LVS-NAT's picture: the real servers
/// route back through the LB host, which delivers the replies to its own sockets by policy routing).
/// </summary>
[Collection(NetworkScenariosCollection.Name)]
[Trait("Category", "Root")]
public sealed class ClientAddressScenarios(ITestOutputHelper output)
{
    private const int HttpV1Port = 8081, HttpV2Port = 8082, HttpPlainPort = 8080, MySqlPort = 3306;
    private const string MonitorUser = "monitor", MonitorPassword = "m0n-secret";
    private const string AppUser = "app", AppPassword = "app-secret";

    /// <summary>The LB's address on the real servers' subnet (host 2 on the "back" switch).</summary>
    private static readonly IPAddress LbBackAddress = IPAddress.Parse("198.18.1.2");

    private static string HttpCheck(string extra = "") =>
        $"HTTP_GET {{\n url {{\n path /\n status_code 200\n }}\n connect_timeout 2\n {extra}\n }}";

    private static string MySqlCheck() =>
        $"MYSQL_CHECK {{\n user {MonitorUser}\n password {MonitorPassword}\n connect_timeout 2\n }}";

    [Fact]
    public async Task Proxy_protocol_v1_and_v2_show_nginx_and_MariaDB_the_client_while_plain_checks_keep_MySQL_up()
    {
        using var files = new ScenarioFiles();
        await using var lan = await ForwardingLan.CreateAsync(output.WriteLine);
        var (web, db) = (lan.RealServers[0], lan.RealServers[1]);
        await using var nginx = await NginxServer.StartAsync(web, files, plainPorts: [], proxyProtocolPorts: [HttpV1Port, HttpV2Port]);

        // MariaDB takes PROXY headers from the LB only, and still takes plain connections from it (the checks). The
        // application user exists for the client host's address only: the grant itself proves what MariaDB sees.
        await using var mariaDb = await MariaDbServer.StartAsync(db, MySqlPort,
            [$"--proxy-protocol-networks={LbBackAddress}"], output.WriteLine);
        await mariaDb.CreateUserAsync(MonitorUser, MonitorPassword, LbBackAddress.ToString());
        await mariaDb.CreateUserAsync(AppUser, AppPassword, lan.Client.Address.ToString());

        var daemon = await VipProxyDaemon.StartAsync(lan.Lb, files,
            VirtualServer(HttpV1Port, "rr", "delay_loop 1\n alpha", RealServer(web, HttpV1Port, "send_proxy\n check_send_proxy\n" + HttpCheck())) +
            VirtualServer(HttpV2Port, "rr", "delay_loop 1\n alpha", RealServer(web, HttpV2Port, "send_proxy_v2\n check_send_proxy\n" + HttpCheck())) +
            VirtualServer(MySqlPort, "rr", "delay_loop 1\n alpha", RealServer(db, MySqlPort, "send_proxy_v2\n" + MySqlCheck())));
        try
        {
            // With alpha every real server starts down until its first check passes. The HTTP checks pass against
            // proxy_protocol listeners only because they carry the header (check_send_proxy); the MySQL check passes
            // without one.
            await Eventually.ValueAsync(() => daemon.StatusAsync(), s => s.VirtualServers.SelectMany(v => v.RealServers).All(r => r.Up), TimeSpan.FromSeconds(15), "every check passes", TimeSpan.FromMilliseconds(100));
            var mysqlCheck = (await daemon.StatusAsync()).VirtualServer(MySqlPort).RealServer(db);
            Assert.Contains($"logged in as '{MonitorUser}'", mysqlCheck.LastCheck, StringComparison.Ordinal);

            string client = lan.Client.Address.ToString();
            foreach (int port in new[] { HttpV1Port, HttpV2Port })
            {
                string body = await CurlAsync(lan.Client, port);
                output.WriteLine($"VIP:{port} -> nginx: {body}");
                Assert.StartsWith($"proxy={client}:", body, StringComparison.Ordinal);
                Assert.EndsWith($" remote={LbBackAddress}", body, StringComparison.Ordinal);
            }

            string user = await SelectUserAsync(lan.Client, MySqlPort);
            output.WriteLine($"VIP:{MySqlPort} -> MariaDB: SELECT USER() = {user}");
            Assert.Equal($"{AppUser}@{client}", user);

            // The checks never sent a header: MariaDB would have counted a refused one as an aborted connect.
            Assert.Equal(0, await mariaDb.GetGlobalStatusAsync("Aborted_connects"));
        }
        finally
        {
            await daemon.StopAsync();
        }
    }

    [Fact]
    public async Task Transparent_mode_shows_MariaDB_and_nginx_the_client_once_replies_are_delivered_to_the_LB()
    {
        using var files = new ScenarioFiles();
        await using var lan = await ForwardingLan.CreateAsync(output.WriteLine);
        var (web, db) = (lan.RealServers[0], lan.RealServers[1]);

        // As with LVS-NAT, the real servers' default route is the LB.
        await web.SetDefaultRouteAsync(LbBackAddress);
        await db.SetDefaultRouteAsync(LbBackAddress);
        await using var nginx = await NginxServer.StartAsync(web, files, plainPorts: [HttpPlainPort], proxyProtocolPorts: []);
        await using var mariaDb = await MariaDbServer.StartAsync(db, MySqlPort, output.WriteLine);
        await mariaDb.CreateUserAsync(MonitorUser, MonitorPassword, LbBackAddress.ToString());
        await mariaDb.CreateUserAsync(AppUser, AppPassword, lan.Client.Address.ToString());

        var daemon = await VipProxyDaemon.StartAsync(lan.Lb, files,
            VirtualServer(HttpPlainPort, "rr", "delay_loop 1\n alpha\n transparent\n proxy_connect_timeout 1", RealServer(web, HttpPlainPort, HttpCheck())) +
            VirtualServer(MySqlPort, "rr", "delay_loop 1\n alpha\n transparent\n proxy_connect_timeout 1", RealServer(db, MySqlPort, MySqlCheck())));
        try
        {
            // Health checks come from the LB's own address and need nothing special.
            await Eventually.ValueAsync(() => daemon.StatusAsync(), s => s.VirtualServers.SelectMany(v => v.RealServers).All(r => r.Up), TimeSpan.FromSeconds(15), "every check passes", TimeSpan.FromMilliseconds(100));

            // The LB does not route for anyone: the return path below works without ip_forward.
            Assert.Equal("net.ipv4.ip_forward = 0", (await lan.Lb.RunAsync("sysctl", "net.ipv4.ip_forward")).EnsureSuccess("sysctl").StandardOutput.Trim());

            // Without the return path, the real server's SYN-ACK to the client's address reaches the LB, which is no
            // router for it: the transparent connect times out.
            await ExpectConnectTimeoutAsync(lan, daemon, timeouts: 1);

            // The local route table alone is not enough either: nothing selects it until the packets are marked.
            (await lan.Lb.RunAsync("ip", "rule", "add", "fwmark", "1", "lookup", "100")).EnsureSuccess("ip rule add fwmark 1 lookup 100");
            (await lan.Lb.RunAsync("ip", "route", "add", "local", "0.0.0.0/0", "dev", "lo", "table", "100")).EnsureSuccess("ip route add local 0/0 dev lo table 100");
            await ExpectConnectTimeoutAsync(lan, daemon, timeouts: 2);

            // The README's third line: mark TCP packets that belong to a transparent socket. Only in the LB's namespace.
            await InstallSocketMarkAsync(lan.Lb, files);

            string client = lan.Client.Address.ToString();
            string body = await CurlAsync(lan.Client, HttpPlainPort);
            output.WriteLine($"VIP:{HttpPlainPort} (transparent) -> nginx: {body}");
            Assert.Equal($"remote={client}", body);

            string user = await SelectUserAsync(lan.Client, MySqlPort);
            output.WriteLine($"VIP:{MySqlPort} (transparent) -> MariaDB: SELECT USER() = {user}");
            Assert.Equal($"{AppUser}@{client}", user);
            Assert.Equal(0, await mariaDb.GetGlobalStatusAsync("Aborted_connects"));
        }
        finally
        {
            await daemon.StopAsync();
        }
    }

    /// <summary>The mark of the README's return path, in the LB namespace: packets of transparent sockets get mark 1
    /// (nftables <c>socket transparent 1</c>; iptables <c>-m socket --transparent</c> is the same match).</summary>
    private static async Task InstallSocketMarkAsync(LanHost lb, ScenarioFiles files)
    {
        string rules = files.Write($"{lb.Name}-return-path.nft", """
            table ip vipproxy {
                chain prerouting {
                    type filter hook prerouting priority mangle; policy accept;
                    meta l4proto tcp socket transparent 1 meta mark set 1
                }
            }
            """);
        (await lb.RunAsync("nft", "-f", rules)).EnsureSuccess("nft -f (in the LB namespace)");
    }

    /// <summary>A request through the transparent VIP fails, and the daemon has closed <paramref name="timeouts"/>
    /// connections in all as ConnectTimeout.</summary>
    private static async Task ExpectConnectTimeoutAsync(ForwardingLan lan, VipProxyDaemon daemon, int timeouts)
    {
        Assert.Equal(string.Empty, await CurlAsync(lan.Client, HttpPlainPort, mustSucceed: false));
        await Eventually.TrueAsync(() => daemon.ConnectionLines().Count(l => l.Contains("ConnectTimeout by RealServer", StringComparison.Ordinal)) >= timeouts,
            TimeSpan.FromSeconds(10), $"{timeouts} connections closed as ConnectTimeout", TimeSpan.FromMilliseconds(50));
    }

    /// <summary>curl from the client host to VIP:PORT; the body, or "" when the request failed and that is allowed.</summary>
    private static async Task<string> CurlAsync(LanHost client, int port, bool mustSucceed = true)
    {
        var result = await client.RunAsync("curl", "-sS", "--max-time", "5", string.Create(CultureInfo.InvariantCulture, $"http://{ForwardingLan.Vip}:{port}/"));
        if (mustSucceed)
        {
            result.EnsureSuccess($"curl VIP:{port}");
        }

        return result.Succeeded ? result.StandardOutput.Trim() : string.Empty;
    }

    /// <summary><c>SELECT USER()</c> through VIP:PORT with the mariadb client on the client host; checks that the
    /// session's processlist host is the same address.</summary>
    private static async Task<string> SelectUserAsync(LanHost client, int port)
    {
        var result = (await client.RunAsync(MariaDbServer.ClientProgram, "--protocol=TCP", "-h", ForwardingLan.Vip.ToString(),
            "-P", port.ToString(CultureInfo.InvariantCulture), "-u", AppUser, $"-p{AppPassword}",
            "--batch", "--skip-column-names", "-e",
            "SELECT USER(), (SELECT HOST FROM information_schema.PROCESSLIST WHERE ID = CONNECTION_ID())"))
            .EnsureSuccess($"SELECT USER() via VIP:{port}");
        string[] columns = result.StandardOutput.Trim().Split('\t');
        Assert.Equal(2, columns.Length);

        // The processlist shows the session's host as "address:port": the address must be the user's.
        Assert.StartsWith(columns[0].Split('@')[1] + ":", columns[1], StringComparison.Ordinal);
        return columns[0];
    }
}
