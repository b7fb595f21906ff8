using System.Diagnostics;
using System.Globalization;
using MySqlConnector;
using VipProxy.Lab;
using Xunit.Abstractions;
using static VipProxy.Scenario.Tests.Forwarding.ForwardingConfig;

namespace VipProxy.Scenario.Tests.Forwarding;

/// <summary>
/// The deployment VipProxy exists for: MySQL clients on VIP:8066 and VIP:9066 (MyCat's data and management ports)
/// in front of MariaDB real servers, checked by MYSQL_CHECK. MariaDB is Debian's, started by the test inside the
/// real-server hosts; the client is MySqlConnector, running on a thread that joined the client host's namespace.
/// The loopback probe tests (VipProxy.HealthChecks.Tests MariaDbProbeTests) call the probe in-process; here the
/// daemon runs the checks from the LB host.
/// </summary>
[Collection(NetworkScenariosCollection.Name)]
[Trait("Category", "Root")]
public sealed class MySqlScenarios(ITestOutputHelper output)
{
    private const int DataPort = 8066, ManagementPort = 9066;
    private const string MonitorUser = "monitor", MonitorPassword = "m0n-secret";
    private const string AppUser = "app", AppPassword = "app-secret";

    private static string MySqlCheck(string password, string timing = "") =>
        $"MYSQL_CHECK {{\n user {MonitorUser}\n password {password}\n connect_timeout 2\n {timing}\n }}";

    /// <summary>MariaDB on PORT with a second listener on 9066 (--extra-port), server_id N, and the test's users.</summary>
    private async Task<MariaDbServer> StartMariaDbAsync(LanHost host, int serverId)
    {
        var server = await MariaDbServer.StartAsync(host, DataPort,
            [$"--extra-port={ManagementPort}", $"--server-id={serverId}"], output.WriteLine);
        try
        {
            await server.CreateUserAsync(MonitorUser, MonitorPassword);
            await server.CreateUserAsync(AppUser, AppPassword);
            await server.ExecuteSqlAsync(
                "CREATE DATABASE shop; CREATE TABLE shop.orders (id INT AUTO_INCREMENT PRIMARY KEY, port INT, item VARCHAR(40)); " +
                $"GRANT SELECT, INSERT ON shop.* TO '{AppUser}'@'%';");
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    [Fact]
    public async Task MySqlConnector_queries_through_VIP_8066_and_9066_are_spread_round_robin_over_two_MariaDB_real_servers()
    {
        using var files = new ScenarioFiles();
        await using var lan = await ForwardingLan.CreateAsync(output.WriteLine);
        var (rs1, rs2) = (lan.RealServers[0], lan.RealServers[1]);
        var starting = new[] { StartMariaDbAsync(rs1, 1), StartMariaDbAsync(rs2, 2) };
        try
        {
            await Task.WhenAll(starting);
        }
        catch
        {
            foreach (var task in starting.Where(t => t.IsCompletedSuccessfully))
            {
                await (await task).DisposeAsync();
            }

            throw;
        }

        await using var db1 = await starting[0];
        await using var db2 = await starting[1];
        string check = MySqlCheck(MonitorPassword);
        var daemon = await VipProxyDaemon.StartAsync(lan.Lb, files,
            VirtualServer(DataPort, "rr", "delay_loop 1", RealServer(rs1, DataPort, check), RealServer(rs2, DataPort, check)) +
            VirtualServer(ManagementPort, "rr", "delay_loop 1", RealServer(rs1, ManagementPort, check), RealServer(rs2, ManagementPort, check)));

        // Every real server passed a real login probe before the clients come.
        await Eventually.ValueAsync(() => daemon.StatusAsync(), s => s.VirtualServers.SelectMany(v => v.RealServers)
            .All(r => r.Up && r.LastCheck?.Contains($"logged in as '{MonitorUser}'", StringComparison.Ordinal) == true), TimeSpan.FromSeconds(15), "four MYSQL_CHECKs passed", TimeSpan.FromMilliseconds(100));

        var client = lan.ThreadIn(lan.Client);
        var seen = new Dictionary<int, List<int>>();
        foreach (int port in new[] { DataPort, ManagementPort })
        {
            seen[port] = [];
            for (int i = 0; i < 4; i++)
            {
                int item = i;
                var (serverId, bindAddress, bigLength, rows) = await client.RunAsync(() => Query(port, item));
                output.WriteLine($"VIP:{port} #{item}: @@server_id {serverId}, @@bind_address {bindAddress}, 1 MiB column {bigLength} bytes, {rows} orders");
                Assert.Equal(serverId == 1 ? rs1.Address.ToString() : rs2.Address.ToString(), bindAddress);
                Assert.Equal(1024 * 1024, bigLength);
                seen[port].Add(serverId);
            }

            output.WriteLine($"VIP:{port} server ids: {string.Join(' ', seen[port])}");
            for (int i = 1; i < seen[port].Count; i++)
            {
                Assert.NotEqual(seen[port][i - 1], seen[port][i]);
            }

            Assert.Equal([1, 2], seen[port].Distinct().Order());
        }

        // The rows were written where the client was told it was: two per port on each server.
        foreach (var db in new[] { db1, db2 })
        {
            string perPort = await db.ExecuteSqlAsync("SELECT port, COUNT(*) FROM shop.orders GROUP BY port ORDER BY port");
            Assert.Equal($"{DataPort}\t2\n{ManagementPort}\t2", perPort);

            // Every session through the forwarder and every health probe ended cleanly (COM_QUIT, then close).
            Assert.Equal(0, await db.GetGlobalStatusAsync("Aborted_connects"));
            Assert.Equal(0, await db.GetGlobalStatusAsync("Aborted_clients"));
        }

        var status = await daemon.StatusFromCliAsync();
        foreach (int port in new[] { DataPort, ManagementPort })
        {
            foreach (var host in new[] { rs1, rs2 })
            {
                var realServer = status.VirtualServer(port).RealServer(host);
                Assert.True(realServer.Up);
                Assert.Equal(2, realServer.TotalConnections);
                Assert.True(realServer.BytesOut > 2 * 1024 * 1024, $"{host.Name}:{port} sent {realServer.BytesOut} bytes");
                Assert.Equal(0, realServer.FailedConnects);
            }
        }
    }

    /// <summary>One MySqlConnector session, synchronous (it runs on the client host's namespace thread).</summary>
    private static (int ServerId, string BindAddress, int BigLength, long Rows) Query(int port, int item)
    {
        var builder = new MySqlConnectionStringBuilder
        {
            Server = ForwardingLan.Vip.ToString(),
            Port = (uint)port,
            UserID = AppUser,
            Password = AppPassword,
            Database = "shop",
            Pooling = false,
            SslMode = MySqlSslMode.None,
            ConnectionTimeout = 10,
            DefaultCommandTimeout = 10,
        };
        using var connection = new MySqlConnection(builder.ConnectionString);
        connection.Open();
        int serverId;
        string bindAddress;
        using (var identity = new MySqlCommand("SELECT @@server_id, @@bind_address", connection))
        using (var reader = identity.ExecuteReader())
        {
            reader.Read();
            serverId = Convert.ToInt32(reader.GetValue(0), CultureInfo.InvariantCulture);
            bindAddress = reader.GetString(1);
        }

        using (var insert = new MySqlCommand("INSERT INTO orders (port, item) VALUES (@port, @item)", connection))
        {
            insert.Parameters.AddWithValue("@port", port);
            insert.Parameters.AddWithValue("@item", $"item {item}");
            insert.ExecuteNonQuery();
        }

        using var big = new MySqlCommand("SELECT REPEAT('x', 1048576)", connection);
        int bigLength = ((string)big.ExecuteScalar()!).Length;
        using var count = new MySqlCommand("SELECT COUNT(*) FROM orders", connection);
        long rows = Convert.ToInt64(count.ExecuteScalar(), CultureInfo.InvariantCulture);
        return (serverId, bindAddress, bigLength, rows);
    }

    [Fact]
    public async Task MYSQL_CHECK_from_the_LB_leaves_Aborted_connects_unchanged_TCP_CHECK_raises_it_and_a_wrong_password_is_down_with_1045()
    {
        using var files = new ScenarioFiles();
        await using var lan = await ForwardingLan.CreateAsync(output.WriteLine, realServers: 1);
        var rs1 = lan.RealServers[0];
        await using var db = await StartMariaDbAsync(rs1, 1);
        const string FastChecks = "warmup 0\n delay_before_retry 0.2";

        // 1. MYSQL_CHECK with the monitor's credentials, every 0.2 s.
        var (aborted0, connections0) = await CountersAsync(db);
        var daemon = await VipProxyDaemon.StartAsync(lan.Lb, files,
            VirtualServer(DataPort, "rr", "delay_loop 0.2", RealServer(rs1, DataPort, MySqlCheck(MonitorPassword, FastChecks))));
        await Task.Delay(TimeSpan.FromSeconds(7));
        var checkedStatus = (await daemon.StatusFromCliAsync()).VirtualServer(DataPort).RealServer(rs1);
        await daemon.StopAsync();
        var (aborted1, connections1) = await CountersAsync(db);
        long loginProbes = connections1 - connections0 - 1; // less this counter query's own session
        output.WriteLine($"MYSQL_CHECK: {loginProbes} probes from the LB; Aborted_connects {aborted0} -> {aborted1}; last_check '{checkedStatus.LastCheck}'");
        Assert.True(checkedStatus.Up);
        Assert.Contains($"logged in as '{MonitorUser}'", checkedStatus.LastCheck, StringComparison.Ordinal);
        Assert.True(loginProbes >= 30, $"only {loginProbes} probes ran");
        Assert.Equal(aborted0, aborted1);

        // The LB host can still log in (no host block, no error count).
        (await lan.Lb.RunAsync(MariaDbServer.ClientProgram, "--no-defaults", "-h", rs1.Address.ToString(), "-P", DataPort.ToString(CultureInfo.InvariantCulture),
            "-u", MonitorUser, $"-p{MonitorPassword}", "--batch", "--skip-column-names", "-e", "SELECT CURRENT_USER()")).EnsureSuccess("login from the LB host");

        // 2. The same server behind TCP_CHECK: every probe is a connect-and-close, an aborted connect.
        var (aborted2, connections2) = await CountersAsync(db);
        daemon = await VipProxyDaemon.StartAsync(lan.Lb, files,
            VirtualServer(DataPort, "rr", "delay_loop 0.2", RealServer(rs1, DataPort, $"TCP_CHECK {{\n connect_timeout 2\n {FastChecks}\n }}")));
        await Task.Delay(TimeSpan.FromSeconds(2.5));
        await daemon.StopAsync();
        long aborted3 = aborted2, connections3 = connections2;
        var clock = Stopwatch.StartNew();
        while (aborted3 - aborted2 < 5 && clock.Elapsed < TimeSpan.FromSeconds(5))
        {
            await Task.Delay(200);
            (aborted3, connections3) = await CountersAsync(db);
        }

        output.WriteLine($"TCP_CHECK: {connections3 - connections2} connections; Aborted_connects {aborted2} -> {aborted3}");
        Assert.True(aborted3 - aborted2 >= 5, $"TCP_CHECK raised Aborted_connects only from {aborted2} to {aborted3}");

        // 3. A wrong password: the server is reported down with MariaDB's own error.
        daemon = await VipProxyDaemon.StartAsync(lan.Lb, files,
            VirtualServer(DataPort, "rr", "delay_loop 0.5", RealServer(rs1, DataPort, MySqlCheck("not-the-password", FastChecks))));
        await Eventually.ValueAsync(() => daemon.StatusAsync(), s => !s.VirtualServer(DataPort).RealServer(rs1).Up, TimeSpan.FromSeconds(15), "the wrong password reported down", TimeSpan.FromMilliseconds(100));
        var refused = (await daemon.StatusFromCliAsync()).VirtualServer(DataPort).RealServer(rs1);
        output.WriteLine($"wrong password: up {refused.Up}, last_check '{refused.LastCheck}'");
        Assert.False(refused.Up);
        Assert.Contains("1045", refused.LastCheck, StringComparison.Ordinal);
        Assert.Contains("Access denied", refused.LastCheck, StringComparison.Ordinal);
    }

    /// <summary>Aborted_connects and Connections in one query (itself one connection, over the socket).</summary>
    private static async Task<(long Aborted, long Connections)> CountersAsync(MariaDbServer db)
    {
        var rows = (await db.ExecuteSqlAsync("SHOW GLOBAL STATUS WHERE Variable_name IN ('Aborted_connects', 'Connections')"))
            .Split('\n').Select(r => r.Split('\t')).ToDictionary(r => r[0], r => long.Parse(r[1], CultureInfo.InvariantCulture));
        return (rows["Aborted_connects"], rows["Connections"]);
    }
}
