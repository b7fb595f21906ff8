using System.Globalization;
using MySqlConnector;
using VipProxy.Lab;
using Xunit.Abstractions;
using static VipProxy.Scenario.Tests.Forwarding.ForwardingConfig;

namespace VipProxy.Scenario.Tests.Forwarding;

/// <summary>
/// Issue 16: a real three-node Galera cluster (Debian's galera-4 with MariaDB 10.11) behind VipProxy with
/// <c>MYSQL_CHECK { galera on }</c>. A node desynced by the DBA (<c>SET GLOBAL wsrep_desync = ON</c>, the usual step
/// before a backup) leaves the pool with the reason, and comes back once it is resynced; the other two keep serving.
/// </summary>
[Collection(NetworkScenariosCollection.Name)]
[Trait("Category", "Root")]
public sealed class GaleraScenario(ITestOutputHelper output)
{
    private const int Port = 3306;
    private const string Provider = "/usr/lib/galera/libgalera_smm.so";
    private const string MonitorUser = "monitor", MonitorPassword = "m0n-secret";
    private const string AppUser = "app", AppPassword = "app-secret";

    /// <summary>Galera's options for node <paramref name="node"/>: small caches (three servers share this machine), rsync SST.</summary>
    private static string[] GaleraArguments(IReadOnlyList<LanHost> nodes, LanHost node, bool bootstrap) =>
    [
        "--wsrep-on=ON", $"--wsrep-provider={Provider}",
        $"--wsrep-cluster-address=gcomm://{string.Join(',', nodes.Select(n => n.Address))}",
        $"--wsrep-node-address={node.Address}", $"--wsrep-node-name={node.Name}", "--wsrep-cluster-name=vipproxy-test",
        $"--wsrep-provider-options=gcache.size=16M;gmcast.listen_addr=tcp://{node.Address}:4567",
        "--wsrep-sst-method=rsync", "--binlog-format=ROW", "--default-storage-engine=InnoDB", "--innodb-autoinc-lock-mode=2",
        .. bootstrap ? new[] { "--wsrep-new-cluster" } : [],
    ];

    [Fact]
    public async Task A_desynced_Galera_node_leaves_the_pool_with_its_reason_and_returns_when_synced()
    {
        using var files = new ScenarioFiles();
        await using var lan = await ForwardingLan.CreateAsync(output.WriteLine, realServers: 3);
        var nodes = lan.RealServers;
        var servers = new List<MariaDbServer>();
        try
        {
            // One after the other: the first bootstraps the cluster, the others join it by state transfer.
            foreach (var node in nodes)
            {
                servers.Add(await MariaDbServer.StartAsync(node, Port, GaleraArguments(nodes, node, bootstrap: node == nodes[0]), output.WriteLine));
            }

            // Users are replicated by Galera (DDL in total order), so creating them on the first node suffices.
            await servers[0].CreateUserAsync(MonitorUser, MonitorPassword);
            await servers[0].CreateUserAsync(AppUser, AppPassword);
            string size = await servers[2].ExecuteSqlAsync("SHOW GLOBAL STATUS LIKE 'wsrep_cluster_size'");
            Assert.Equal("wsrep_cluster_size\t3", size);

            string check = $"MYSQL_CHECK {{\n user {MonitorUser}\n password {MonitorPassword}\n connect_timeout 2\n retry 0\n galera on\n }}";
            var daemon = await VipProxyDaemon.StartAsync(lan.Lb, files,
                VirtualServer(Port, "rr", "delay_loop 1", [.. nodes.Select(n => RealServer(n, Port, check))]));
            await Eventually.ValueAsync(() => daemon.StatusAsync(), s => s.VirtualServer(Port).RealServers.All(r => r.Up && r.LastCheck?.Contains("Synced", StringComparison.Ordinal) == true),
                TimeSpan.FromSeconds(20), "three Galera nodes up and Synced", TimeSpan.FromMilliseconds(100));
            var synced = await daemon.StatusFromCliAsync();
            output.WriteLine($"synced: {string.Join(" | ", synced.VirtualServer(Port).RealServers.Select(r => r.LastCheck))}");

            // The DBA desyncs node 2 (as before a backup): out of the pool, with the reason, on the next check.
            await servers[1].ExecuteSqlAsync("SET GLOBAL wsrep_desync = ON");
            var desynced = await Eventually.ValueAsync(() => daemon.StatusAsync(), s => !s.VirtualServer(Port).RealServer(nodes[1]).Up,
                TimeSpan.FromSeconds(10), "node 2 down after wsrep_desync", TimeSpan.FromMilliseconds(100));
            string reason = desynced.VirtualServer(Port).RealServer(nodes[1]).LastCheck ?? "";
            output.WriteLine($"desynced: '{reason}'");
            Assert.Contains("wsrep_desync", reason, StringComparison.Ordinal);
            Assert.True(desynced.VirtualServer(Port).RealServer(nodes[0]).Up);
            Assert.True(desynced.VirtualServer(Port).RealServer(nodes[2]).Up);

            // Sessions through the VIP now reach only nodes 1 and 3.
            var client = lan.ThreadIn(lan.Client);
            var seen = new HashSet<string>(StringComparer.Ordinal);
            for (int i = 0; i < 9; i++)
            {
                seen.Add(await client.RunAsync(() => NodeName()));
            }

            Assert.Equal(new HashSet<string>([nodes[0].Name, nodes[2].Name], StringComparer.Ordinal), seen);

            await servers[1].ExecuteSqlAsync("SET GLOBAL wsrep_desync = OFF");
            await Eventually.ValueAsync(() => daemon.StatusAsync(), s => s.VirtualServer(Port).RealServer(nodes[1]).Up,
                TimeSpan.FromSeconds(15), "node 2 back after resync", TimeSpan.FromMilliseconds(100));
        }
        finally
        {
            foreach (var server in servers)
            {
                await server.DisposeAsync();
            }
        }
    }

    /// <summary>One session through VIP:3306: the Galera node that answered (@@wsrep_node_name).</summary>
    private static string NodeName()
    {
        var builder = new MySqlConnectionStringBuilder
        {
            Server = ForwardingLan.Vip.ToString(),
            Port = Port,
            UserID = AppUser,
            Password = AppPassword,
            Pooling = false,
            SslMode = MySqlSslMode.None,
            ConnectionTimeout = 3,
        };
        using var connection = new MySqlConnection(builder.ConnectionString);
        connection.Open();
        using var command = new MySqlCommand("SELECT @@wsrep_node_name", connection);
        return Convert.ToString(command.ExecuteScalar(), CultureInfo.InvariantCulture)!;
    }
}
