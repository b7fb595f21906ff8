using System.Diagnostics;
using MySqlConnector;
using VipProxy.Config.Model;
using VipProxy.HealthChecks.Probes;
using VipProxy.HealthChecks.Probes.MySql;
using VipProxy.HealthChecks.Tests.Support;
using VipProxy.Lab;
using Xunit.Abstractions;

namespace VipProxy.HealthChecks.Tests.MySql;

/// <summary>MYSQL_CHECK against a real MariaDB 10.11 started by the test.</summary>
[Collection(MariaDbCollection.Name)]
[Trait("Category", "Root")]
public sealed class MariaDbProbeTests(MariaDbFixture fixture, ITestOutputHelper output)
{
    private const int Probes = 500;
    private const int Concurrency = 16;

    private MariaDbServer Server => fixture.Server;

    private MySqlProbe Probe(string? user = MariaDbFixture.User, string? password = MariaDbFixture.Password, string? database = null) =>
        new(Settings.Target(Server.EndPoint, timeoutSeconds: 5), new MySqlCheck(Settings.Check(), user, password, database));

    [Fact]
    public async Task Correct_credentials_are_up()
    {
        ProbeResult result = await Probe().ProbeAsync(CancellationToken.None);

        Assert.True(result.IsUp, result.ToString());
        Assert.Contains($"logged in as '{MariaDbFixture.User}' to 10.", result.Reason, StringComparison.Ordinal);
        Assert.Contains("MariaDB", result.Reason, StringComparison.Ordinal);
        Assert.EndsWith(", ping OK", result.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Wrong_password_is_down_with_1045_and_the_server_message()
    {
        ProbeResult result = await Probe(password: "wrong").ProbeAsync(CancellationToken.None);

        Assert.False(result.IsUp);
        Assert.Equal(1045, result.ErrorCode);
        Assert.Contains($"Access denied for user '{MariaDbFixture.User}'@'127.0.0.1' (using password: YES)", result.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Database_is_selected_at_login()
    {
        ProbeResult granted = await Probe(database: MariaDbFixture.Database).ProbeAsync(CancellationToken.None);
        ProbeResult denied = await Probe(database: "not_granted").ProbeAsync(CancellationToken.None);

        Assert.True(granted.IsUp, granted.ToString());
        Assert.False(denied.IsUp);
        Assert.Equal(1044, denied.ErrorCode);
    }

    [Fact]
    public async Task Without_user_the_greeting_is_enough_but_counts_as_an_aborted_connect()
    {
        long before = await Server.GetGlobalStatusAsync("Aborted_connects");

        ProbeResult result = await Probe(user: null).ProbeAsync(CancellationToken.None);

        Assert.True(result.IsUp, result.ToString());
        Assert.Contains("greeting from 10.", result.Reason, StringComparison.Ordinal);
        await Eventually.TrueAsync(() => Server.GetGlobalStatusAsync("Aborted_connects").Result == before + 1,
            TimeSpan.FromSeconds(5), "the greeting-only probe counted as one aborted connect");
    }

    [Fact]
    public async Task Login_probes_leave_Aborted_connects_unchanged_while_tcp_probes_raise_it()
    {
        // 500 MYSQL_CHECK probes with credentials: clean sessions.
        long before = await Server.GetGlobalStatusAsync("Aborted_connects");
        long clientsBefore = await Server.GetGlobalStatusAsync("Aborted_clients");
        var watch = Stopwatch.StartNew();
        ProbeResult[] logins = await RunManyAsync(Probe());
        TimeSpan loginTime = watch.Elapsed;
        await Task.Delay(300); // let the server finish closing the last sessions
        long afterLogins = await Server.GetGlobalStatusAsync("Aborted_connects");
        long clientsAfter = await Server.GetGlobalStatusAsync("Aborted_clients");

        Assert.All(logins, r => Assert.True(r.IsUp, r.ToString()));
        Assert.Equal(before, afterLogins);
        Assert.Equal(clientsBefore, clientsAfter);
        await using (var connection = new MySqlConnection(ConnectionString()))
        {
            await connection.OpenAsync();
            await using var command = new MySqlCommand("SELECT CURRENT_USER()", connection);
            Assert.Equal($"{MariaDbFixture.User}@127.0.0.1", await command.ExecuteScalarAsync());
        }

        // 500 TCP_CHECK probes (connect and close): each one is an aborted connect.
        long beforeTcp = await Server.GetGlobalStatusAsync("Aborted_connects");
        watch.Restart();
        ProbeResult[] connects = await RunManyAsync(new TcpProbe(Settings.Target(Server.EndPoint)));
        TimeSpan tcpTime = watch.Elapsed;
        long afterTcp = 0;
        await Eventually.TrueAsync(() => (afterTcp = Server.GetGlobalStatusAsync("Aborted_connects").Result) >= beforeTcp + Probes,
            // The server counts an aborted connect when its thread for that connection sees the hang-up; on a
            // loaded 2-core machine 500 of them can take many seconds to be processed.
            TimeSpan.FromSeconds(45), $"TCP_CHECK probes counted as aborted connects ({beforeTcp} -> {afterTcp}, expected +{Probes})");

        Assert.All(connects, r => Assert.True(r.IsUp, r.ToString()));
        output.WriteLine($"MYSQL_CHECK x{Probes}: Aborted_connects {before} -> {afterLogins}, Aborted_clients {clientsBefore} -> {clientsAfter} ({loginTime.TotalMilliseconds:0} ms)");
        output.WriteLine($"TCP_CHECK   x{Probes}: Aborted_connects {beforeTcp} -> {afterTcp} ({tcpTime.TotalMilliseconds:0} ms)");
        await Server.ExecuteSqlAsync("FLUSH HOSTS");
    }

    [Fact]
    public async Task Stopped_server_is_down_and_back_up_after_restart()
    {
        await Server.StopAsync();
        ProbeResult down = await Probe().ProbeAsync(CancellationToken.None);
        await Server.StartAgainAsync();
        ProbeResult up = await Probe().ProbeAsync(CancellationToken.None);

        Assert.False(down.IsUp);
        Assert.Contains("connection refused", down.Reason, StringComparison.Ordinal);
        Assert.True(up.IsUp, up.ToString());
    }

    private string ConnectionString() => new MySqlConnectionStringBuilder
    {
        Server = Server.Address.ToString(),
        Port = (uint)Server.Port,
        UserID = MariaDbFixture.User,
        Password = MariaDbFixture.Password,
        SslMode = MySqlSslMode.None,
        Pooling = false,
    }.ConnectionString;

    private static async Task<ProbeResult[]> RunManyAsync(IHealthProbe probe)
    {
        var results = new ProbeResult[Probes];
        await Parallel.ForAsync(0, Probes, new ParallelOptions { MaxDegreeOfParallelism = Concurrency },
            async (i, token) => results[i] = await probe.ProbeAsync(token));
        return results;
    }
}
