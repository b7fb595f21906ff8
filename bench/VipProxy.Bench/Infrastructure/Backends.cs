using System.Globalization;

namespace VipProxy.Bench.Infrastructure;

/// <summary>
/// Starts the real server's services, privately: each with its own config and data under the run's work
/// directory, bound to the real server's address inside its namespace, so nothing of the machine's own nginx,
/// MariaDB or iperf3 setup is used or disturbed. The processes die with the namespace at teardown.
/// </summary>
internal sealed class Backends
{
    public const string MysqlUser = "sbtest";
    public const string MysqlPassword = "sbtest-bench";
    public const string MysqlDatabase = "sbtest";
    public const int SysbenchTableSize = 10_000;

    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);

    private readonly BenchTopology _topology;
    private readonly string _workDirectory;
    private readonly BenchLog _log;

    public Backends(BenchTopology topology, string workDirectory, BenchLog log)
    {
        _topology = topology;
        _workDirectory = workDirectory;
        _log = log;
    }

    public async Task StartAsync(IReadOnlySet<Service> services, int maxIdleConnections, CancellationToken cancellationToken)
    {
        if (services.Contains(Service.Http))
        {
            await StartNginxAsync(maxIdleConnections, cancellationToken);
        }

        if (services.Contains(Service.Bulk))
        {
            await StartIperfAsync(cancellationToken);
        }

        if (services.Contains(Service.Mysql))
        {
            await StartMariaDbAsync(cancellationToken);
        }
    }

    /// <summary>
    /// nginx with one worker (a 2-core machine already shares its cores with the client and the proxy), no access
    /// log, unlimited keep-alive requests (wrk's connections must stay open for the whole run), and enough
    /// connections and patience for the idle-connection workload, whose connections send nothing.
    /// </summary>
    private async Task StartNginxAsync(int maxIdleConnections, CancellationToken cancellationToken)
    {
        var directory = Directory.CreateDirectory(Path.Combine(_workDirectory, "nginx")).FullName;
        var root = Directory.CreateDirectory(Path.Combine(directory, "www")).FullName;

        // A small static page, about the size of nginx's default welcome page.
        await File.WriteAllTextAsync(Path.Combine(root, "index.html"),
            "<!DOCTYPE html>\n<html><head><title>VipProxy bench</title></head><body>\n" +
            string.Concat(Enumerable.Repeat("<p>The quick brown fox jumps over the lazy dog.</p>\n", 10)) +
            "</body></html>\n", cancellationToken);
        var connections = Math.Max(4096, maxIdleConnections + 1024);
        var address = _topology.RealServer.Address;
        var config = string.Create(CultureInfo.InvariantCulture, $$"""
            daemon off;
            master_process off;
            worker_processes 1;
            worker_rlimit_nofile {{connections + 64}};
            pid {{directory}}/nginx.pid;
            error_log stderr warn;
            events { worker_connections {{connections}}; multi_accept on; }
            http {
                access_log off;
                sendfile on;
                tcp_nodelay on;
                keepalive_requests 100000000;
                keepalive_timeout 300s;
                client_header_timeout 300s;
                client_body_temp_path {{directory}}/tmp;
                proxy_temp_path {{directory}}/tmp;
                fastcgi_temp_path {{directory}}/tmp;
                uwsgi_temp_path {{directory}}/tmp;
                scgi_temp_path {{directory}}/tmp;
                server {
                    listen {{address}}:{{ServicePorts.Http}} backlog=8192;
                    root {{root}};
                }
            }
            """);
        Directory.CreateDirectory(Path.Combine(directory, "tmp"));
        var configPath = Path.Combine(directory, "nginx.conf");
        await File.WriteAllTextAsync(configPath, config, cancellationToken);
        var nginx = _topology.RealServer.Start("nginx", "-c", configPath, "-p", directory);
        await NetCheck.WaitUntilAcceptsAsync(_topology.Client, address, ServicePorts.Http, StartTimeout, nginx,
            cancellationToken);
        if (!await NetCheck.HttpGetSucceedsAsync(_topology.Client, address, ServicePorts.Http, ServicePorts.HttpPath))
        {
            throw new BenchFailureException("nginx listens but does not serve " + ServicePorts.HttpPath, nginx.OutputLines);
        }

        _log.Detail("nginx ready");
    }

    private async Task StartIperfAsync(CancellationToken cancellationToken)
    {
        var address = _topology.RealServer.Address.ToString();
        var iperf = _topology.RealServer.Start("iperf3", "-s", "-B", address,
            "-p", ServicePorts.Bulk.ToString(CultureInfo.InvariantCulture));
        await NetCheck.WaitUntilAcceptsAsync(_topology.Client, _topology.RealServer.Address, ServicePorts.Bulk,
            StartTimeout, iperf, cancellationToken);

        // The readiness probe itself looks like a test that never started to iperf3; give it a moment to reset.
        await Task.Delay(200, cancellationToken);
        _log.Detail("iperf3 ready");
    }

    /// <summary>
    /// A private mariadbd: a fresh datadir from mariadb-install-db, port 8066 on the real server's address, no name
    /// resolution (the namespaces have no DNS, and a reverse lookup per connection would dominate), then a sysbench
    /// user and the sysbench table prepared over the network, as the workloads will use it.
    /// </summary>
    private async Task StartMariaDbAsync(CancellationToken cancellationToken)
    {
        var directory = Directory.CreateDirectory(Path.Combine(_workDirectory, "mariadb")).FullName;
        var data = Path.Combine(directory, "data");
        var socket = Path.Combine(directory, "mysqld.sock");
        var install = await _topology.RealServer.RunAsync("mariadb-install-db",
            ["--no-defaults", $"--datadir={data}", "--user=root", "--auth-root-authentication-method=socket",
                "--skip-test-db"], TimeSpan.FromSeconds(120));
        install.EnsureSuccess("mariadb-install-db");

        var server = _topology.RealServer.Start("mariadbd",
            "--no-defaults", $"--datadir={data}", $"--socket={socket}", $"--pid-file={directory}/mariadbd.pid",
            $"--port={ServicePorts.Mysql}", $"--bind-address={_topology.RealServer.Address}", "--user=root",
            "--skip-name-resolve", "--max-connections=1000", "--innodb-buffer-pool-size=256M",
            "--innodb-flush-log-at-trx-commit=0", "--skip-log-bin", "--thread-cache-size=64");
        try
        {
            await server.WaitForOutputAsync("ready for connections", StartTimeout).WaitAsync(cancellationToken);
        }
        catch (TimeoutException e)
        {
            throw new BenchFailureException("mariadbd did not start: " + e.Message, server.OutputLines, e);
        }

        var sql = $"CREATE DATABASE {MysqlDatabase}; " +
                  $"CREATE USER '{MysqlUser}'@'%' IDENTIFIED BY '{MysqlPassword}'; " +
                  $"GRANT ALL ON {MysqlDatabase}.* TO '{MysqlUser}'@'%';";
        (await _topology.RealServer.RunAsync("mariadb", ["--no-defaults", $"--socket={socket}", "-uroot", "-e", sql],
            TimeSpan.FromSeconds(30))).EnsureSuccess("creating the sysbench user");

        var prepare = await _topology.Client.RunAsync("sysbench",
            ["oltp_point_select", .. SysbenchConnection(_topology.RealServer.Address.ToString()), "--tables=1",
                $"--table-size={SysbenchTableSize}", "prepare"], TimeSpan.FromSeconds(120));
        prepare.EnsureSuccess("sysbench prepare");
        _log.Detail("mariadb ready");
    }

    /// <summary>sysbench's connection options for a server (or a proxy) at <paramref name="host"/>:8066.</summary>
    public static string[] SysbenchConnection(string host) =>
    [
        "--db-driver=mysql", $"--mysql-host={host}",
        $"--mysql-port={ServicePorts.Mysql.ToString(CultureInfo.InvariantCulture)}",
        $"--mysql-user={MysqlUser}", $"--mysql-password={MysqlPassword}", $"--mysql-db={MysqlDatabase}",
    ];
}
