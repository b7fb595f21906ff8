using VipProxy.Config.Model;
using VipProxy.HealthChecks.Probes;
using VipProxy.HealthChecks.Probes.MySql;
using VipProxy.HealthChecks.Tests.Support;
using VipProxy.Lab;
using Xunit.Abstractions;

namespace VipProxy.HealthChecks.Tests.MySql;

/// <summary>Issue 16: MYSQL_CHECK's role keywords against the real MariaDB of the collection.</summary>
[Collection(MariaDbCollection.Name)]
[Trait("Category", "Root")]
public sealed class MariaDbRoleProbeTests(MariaDbFixture fixture, ITestOutputHelper output)
{
    private const string MonitorUser = "vipproxy_monitor";
    private const string MonitorPassword = "Monitor-Pw-456";

    private MariaDbServer Server => fixture.Server;

    private MySqlProbe Probe(Func<MySqlCheck, MySqlCheck> configure, string user = MariaDbFixture.User, string password = MariaDbFixture.Password) =>
        new(Settings.Target(Server.EndPoint, timeoutSeconds: 5), configure(new MySqlCheck(Settings.Check(), user, password, null)));

    [Fact]
    public async Task Role_primary_follows_read_only()
    {
        MySqlProbe primary = Probe(c => c with { Role = MySqlRole.Primary });
        MySqlProbe replica = Probe(c => c with { Role = MySqlRole.Replica });
        try
        {
            ProbeResult writable = await primary.ProbeAsync(CancellationToken.None);
            ProbeResult writableAsReplica = await replica.ProbeAsync(CancellationToken.None);
            await Server.ExecuteSqlAsync("SET GLOBAL read_only = ON");
            ProbeResult readOnly = await primary.ProbeAsync(CancellationToken.None);
            ProbeResult readOnlyAsReplica = await replica.ProbeAsync(CancellationToken.None);

            Assert.True(writable.IsUp, writable.ToString());
            Assert.EndsWith(": read_only=OFF, role primary", writable.Reason, StringComparison.Ordinal);
            Assert.StartsWith($"logged in as '{MariaDbFixture.User}' to 10.", writable.Reason, StringComparison.Ordinal);
            Assert.False(writableAsReplica.IsUp);
            Assert.Equal("read_only=OFF, role replica", writableAsReplica.Reason);
            Assert.False(readOnly.IsUp);
            Assert.Equal("read_only=ON, role primary", readOnly.Reason);
            Assert.True(readOnlyAsReplica.IsUp, readOnlyAsReplica.ToString());
            Assert.EndsWith(": read_only=ON, role replica", readOnlyAsReplica.Reason, StringComparison.Ordinal);
            output.WriteLine($"{writable}\n{readOnly}");
        }
        finally
        {
            await Server.ExecuteSqlAsync("SET GLOBAL read_only = OFF");
        }
    }

    [Fact]
    public async Task Query_expect_matches_and_mismatches()
    {
        await Server.ExecuteSqlAsync($"CREATE TABLE IF NOT EXISTS {MariaDbFixture.Database}.heartbeat (state VARCHAR(16)); " +
            $"DELETE FROM {MariaDbFixture.Database}.heartbeat; INSERT INTO {MariaDbFixture.Database}.heartbeat VALUES ('serving');");
        string query = $"SELECT state FROM {MariaDbFixture.Database}.heartbeat";

        ProbeResult match = await Probe(c => c with { Query = query, Expect = "serving" }).ProbeAsync(CancellationToken.None);
        ProbeResult mismatch = await Probe(c => c with { Query = query, Expect = "draining" }).ProbeAsync(CancellationToken.None);
        ProbeResult regex = await Probe(c => c with { Query = "SELECT @@version", ExpectRegex = "MariaDB" }).ProbeAsync(CancellationToken.None);
        ProbeResult regexMismatch = await Probe(c => c with { Query = "SELECT 0", ExpectRegex = "^[1-9]" }).ProbeAsync(CancellationToken.None);
        ProbeResult noResultSet = await Probe(c => c with { Query = "DO 1" }).ProbeAsync(CancellationToken.None);
        ProbeResult refused = await Probe(c => c with { Query = "SELECT * FROM mysql.user", Expect = "x" }).ProbeAsync(CancellationToken.None);
        ProbeResult nullValue = await Probe(c => c with { Query = "SELECT NULL, 1", Expect = "1" }).ProbeAsync(CancellationToken.None);

        Assert.True(match.IsUp, match.ToString());
        Assert.EndsWith(": query returned 'serving' as expected", match.Reason, StringComparison.Ordinal);
        Assert.False(mismatch.IsUp);
        Assert.Equal("query returned 'serving', expected 'draining'", mismatch.Reason);
        Assert.True(regex.IsUp, regex.ToString());
        Assert.False(regexMismatch.IsUp);
        Assert.Equal("query returned '0', does not match /^[1-9]/", regexMismatch.Reason);
        Assert.True(noResultSet.IsUp, noResultSet.ToString());
        Assert.EndsWith(": query returned no rows", noResultSet.Reason, StringComparison.Ordinal);
        Assert.False(refused.IsUp);
        Assert.Equal(1142, refused.ErrorCode);
        Assert.StartsWith("query failed: error 1142: SELECT command denied to user", refused.Reason, StringComparison.Ordinal);
        Assert.Equal("query returned NULL, expected '1'", nullValue.Reason);
    }

    [Fact]
    public async Task Max_replication_lag_without_the_privilege_says_which_one_is_missing()
    {
        await Server.CreateUserAsync(MonitorUser, MonitorPassword, "127.0.0.1");
        await Server.ExecuteSqlAsync($"GRANT SLAVE MONITOR ON *.* TO '{MonitorUser}'@'127.0.0.1'");

        ProbeResult denied = await Probe(c => c with { MaxReplicationLag = 10 }).ProbeAsync(CancellationToken.None);
        ProbeResult granted = await Probe(c => c with { MaxReplicationLag = 10 }, MonitorUser, MonitorPassword).ProbeAsync(CancellationToken.None);

        Assert.False(denied.IsUp);
        Assert.Equal(1227, denied.ErrorCode);
        Assert.StartsWith("SHOW SLAVE STATUS denied: needs SLAVE MONITOR (MariaDB 10.5.9+; REPLICATION CLIENT before): error 1227: Access denied", denied.Reason, StringComparison.Ordinal);
        Assert.True(granted.IsUp, granted.ToString());
        Assert.EndsWith(": not a replica (SHOW SLAVE STATUS is empty)", granted.Reason, StringComparison.Ordinal);
        output.WriteLine(denied.ToString());
    }

    [Fact]
    public async Task Max_replication_lag_on_a_replica_whose_replication_does_not_run_is_down()
    {
        await Server.CreateUserAsync(MonitorUser, MonitorPassword, "127.0.0.1");
        await Server.ExecuteSqlAsync($"GRANT SLAVE MONITOR ON *.* TO '{MonitorUser}'@'127.0.0.1'");
        // A replica of a primary that is not there (port 9 on loopback: nothing listens): the IO thread keeps
        // connecting, so Seconds_Behind_Master is NULL, the state of a replica whose replication has broken.
        await Server.ExecuteSqlAsync("CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=9, MASTER_USER='repl', MASTER_PASSWORD='x', MASTER_CONNECT_RETRY=60");
        try
        {
            await Server.ExecuteSqlAsync("START SLAVE");
            ProbeResult running = await Probe(c => c with { MaxReplicationLag = 10 }, MonitorUser, MonitorPassword).ProbeAsync(CancellationToken.None);
            await Server.ExecuteSqlAsync("STOP SLAVE");
            ProbeResult stopped = await Probe(c => c with { MaxReplicationLag = 10 }, MonitorUser, MonitorPassword).ProbeAsync(CancellationToken.None);

            Assert.False(running.IsUp);
            Assert.Matches(@"^replication stopped: Seconds_Behind_Master NULL \(IO thread '(Connecting|No)', SQL thread 'Yes'\)$", running.Reason);
            Assert.False(stopped.IsUp);
            Assert.Equal("replication stopped: Seconds_Behind_Master NULL (IO thread 'No', SQL thread 'No')", stopped.Reason);
            output.WriteLine($"{running}\n{stopped}");
        }
        finally
        {
            await Server.ExecuteSqlAsync("STOP SLAVE; RESET SLAVE ALL");
        }
    }

    [Fact]
    public async Task Galera_on_a_server_without_wsrep_is_down_with_a_reason()
    {
        ProbeResult result = await Probe(c => c with { Galera = true }).ProbeAsync(CancellationToken.None);

        Assert.False(result.IsUp);
        Assert.True(result.Reason is "not a Galera node: no wsrep_ready status" or "wsrep_ready=OFF", result.Reason);
    }

    [Fact]
    public async Task Role_probes_are_clean_sessions_Aborted_connects_does_not_move()
    {
        const int Probes = 100;
        long before = await Server.GetGlobalStatusAsync("Aborted_connects");
        long clientsBefore = await Server.GetGlobalStatusAsync("Aborted_clients");
        // Every statement kind at once, including one the server refuses (the lag query without privilege).
        MySqlProbe probe = Probe(c => c with { Role = MySqlRole.Primary, MaxReplicationLag = 10, Galera = true, Query = "SELECT 1", Expect = "1" });

        var results = new ProbeResult[Probes];
        await Parallel.ForAsync(0, Probes, new ParallelOptions { MaxDegreeOfParallelism = 8 },
            async (i, token) => results[i] = await probe.ProbeAsync(token));
        await Task.Delay(300); // let the server finish closing the last sessions
        long after = await Server.GetGlobalStatusAsync("Aborted_connects");
        long clientsAfter = await Server.GetGlobalStatusAsync("Aborted_clients");

        Assert.All(results, r => Assert.False(r.IsUp)); // no Galera here: down, with a reason, after a clean session
        Assert.Equal(before, after);
        Assert.Equal(clientsBefore, clientsAfter);
        output.WriteLine($"{Probes} role probes: Aborted_connects {before} -> {after}, Aborted_clients {clientsBefore} -> {clientsAfter}; {results[0]}");
    }
}
