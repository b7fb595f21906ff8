using VipProxy.Config.Model;
using VipProxy.HealthChecks.Probes;
using VipProxy.HealthChecks.Probes.MySql;
using VipProxy.HealthChecks.Tests.Support;

namespace VipProxy.HealthChecks.Tests.MySql;

/// <summary>The pure verdict of MYSQL_CHECK's role keywords: answers in, up/down and reason out.</summary>
public sealed class MySqlRoleVerdictTests
{
    private const string MariaDb = "10.11.6-MariaDB-0+deb12u1";
    private const string MySql8 = "8.0.36";

    private static MySqlCheck Check => new(Settings.Check(), "u", "p", null);

    private static MySqlQueryOutcome NameValues(string statement, params (string Name, string? Value)[] rows) =>
        MySqlQueryOutcome.Of(statement, new MySqlResultSet(["Variable_name", "Value"], [.. rows.Select(r => (IReadOnlyList<string?>)[r.Name, r.Value])]));

    private static MySqlQueryOutcome Variables(params (string, string?)[] rows) => NameValues("SHOW GLOBAL VARIABLES", rows);

    private static MySqlQueryOutcome Status(params (string, string?)[] rows) => NameValues("SHOW GLOBAL STATUS", rows);

    private static MySqlQueryOutcome Error(string statement, int code, string message) =>
        MySqlQueryOutcome.Failed(statement, new MySqlErrorPacket(code, "42000", message));

    private static MySqlQueryOutcome Replica(string? secondsBehind, string io = "Yes", string sql = "Yes", string statement = "SHOW SLAVE STATUS") =>
        MySqlQueryOutcome.Of(statement, new MySqlResultSet(
            ["Slave_IO_State", "Slave_IO_Running", "Slave_SQL_Running", "Seconds_Behind_Master"], [["Waiting", io, sql, secondsBehind]]));

    private static MySqlQueryOutcome Single(string? value) =>
        MySqlQueryOutcome.Of("q", new MySqlResultSet(["c", "d"], [[value, "second column"], ["next row", "x"]]));

    private static ProbeResult Decide(MySqlCheck check, MySqlQueryOutcome? variables = null, MySqlQueryOutcome? galera = null,
        MySqlQueryOutcome? replica = null, MySqlQueryOutcome? query = null, string server = MariaDb) =>
        MySqlRoleVerdict.Decide(check, new MySqlServerAnswers(server, variables, galera, replica, query));

    private static void AssertVerdict(bool up, string reason, ProbeResult result)
    {
        Assert.Equal(up, result.IsUp);
        Assert.Equal(reason, result.Reason);
    }

    // ---- role

    [Theory]
    [InlineData(MySqlRole.Primary, "OFF", null, true, "read_only=OFF, role primary")]
    [InlineData(MySqlRole.Primary, "ON", null, false, "read_only=ON, role primary")]
    [InlineData(MySqlRole.Primary, "OFF", "OFF", true, "read_only=OFF, super_read_only=OFF, role primary")]
    [InlineData(MySqlRole.Primary, "OFF", "ON", false, "super_read_only=ON, role primary")]
    [InlineData(MySqlRole.Primary, "ON", "ON", false, "read_only=ON, role primary")]
    [InlineData(MySqlRole.Replica, "ON", null, true, "read_only=ON, role replica")]
    [InlineData(MySqlRole.Replica, "ON", "ON", true, "read_only=ON, super_read_only=ON, role replica")]
    [InlineData(MySqlRole.Replica, "OFF", null, false, "read_only=OFF, role replica")]
    [InlineData(MySqlRole.Replica, "OFF", "OFF", false, "read_only=OFF, role replica")]
    [InlineData(MySqlRole.Primary, "0", null, true, "read_only=OFF, role primary")]
    [InlineData(MySqlRole.Replica, "1", null, true, "read_only=ON, role replica")]
    public void Role(MySqlRole role, string readOnly, string? superReadOnly, bool up, string reason)
    {
        MySqlQueryOutcome variables = superReadOnly is null
            ? Variables(("read_only", readOnly))
            : Variables(("read_only", readOnly), ("super_read_only", superReadOnly));

        AssertVerdict(up, reason, Decide(Check with { Role = role }, variables));
    }

    [Fact]
    public void Role_without_read_only_in_the_answer_is_down() =>
        AssertVerdict(false, "the server did not report read_only (NULL), role primary", Decide(Check with { Role = MySqlRole.Primary }, Variables()));

    [Fact]
    public void Role_with_a_refused_variables_query_is_down_with_the_server_error()
    {
        ProbeResult result = Decide(Check with { Role = MySqlRole.Primary }, Error("SHOW GLOBAL VARIABLES", 1227, "Access denied"));

        AssertVerdict(false, "SHOW GLOBAL VARIABLES failed: error 1227: Access denied", result);
        Assert.Equal(1227, result.ErrorCode);
    }

    [Fact]
    public void Role_any_asks_nothing()
    {
        Assert.Null(MySqlRoleVerdict.VariablesStatement(Check));
        Assert.Equal("SHOW GLOBAL VARIABLES WHERE Variable_name IN ('read_only', 'super_read_only')",
            MySqlRoleVerdict.VariablesStatement(Check with { Role = MySqlRole.Replica }));
        Assert.Equal("SHOW GLOBAL VARIABLES WHERE Variable_name IN ('read_only', 'super_read_only', 'wsrep_desync')",
            MySqlRoleVerdict.VariablesStatement(Check with { Role = MySqlRole.Primary, Galera = true }));
        Assert.Equal("SHOW GLOBAL VARIABLES WHERE Variable_name IN ('wsrep_desync')", MySqlRoleVerdict.VariablesStatement(Check with { Galera = true }));
    }

    // ---- replication lag

    [Theory]
    [InlineData("0", true, "lag 0 s <= 10 s")]
    [InlineData("10", true, "lag 10 s <= 10 s")]
    [InlineData("11", false, "lag 11 s > 10 s")]
    [InlineData("42", false, "lag 42 s > 10 s")]
    public void Lag(string seconds, bool up, string reason) =>
        AssertVerdict(up, reason, Decide(Check with { MaxReplicationLag = 10 }, replica: Replica(seconds)));

    [Fact]
    public void Lag_null_means_replication_stopped_and_is_down() =>
        AssertVerdict(false, "replication stopped: Seconds_Behind_Master NULL (IO thread 'Yes', SQL thread 'No')",
            Decide(Check with { MaxReplicationLag = 10 }, replica: Replica(null, sql: "No")));

    [Fact]
    public void Lag_of_a_server_that_is_no_replica_passes() =>
        AssertVerdict(true, "not a replica (SHOW SLAVE STATUS is empty)",
            Decide(Check with { MaxReplicationLag = 10 }, replica: MySqlQueryOutcome.Of("SHOW SLAVE STATUS", new MySqlResultSet(["Seconds_Behind_Master"], []))));

    [Fact]
    public void Lag_reads_MySQL_8s_Seconds_Behind_Source()
    {
        var replica = MySqlQueryOutcome.Of("SHOW REPLICA STATUS",
            new MySqlResultSet(["Replica_IO_Running", "Replica_SQL_Running", "Seconds_Behind_Source"], [["No", "Yes", null]]));

        AssertVerdict(false, "replication stopped: Seconds_Behind_Master NULL (IO thread 'No', SQL thread 'Yes')",
            Decide(Check with { MaxReplicationLag = 5 }, replica: replica, server: MySql8));
    }

    [Theory]
    [InlineData(MariaDb, "SHOW SLAVE STATUS denied: needs SLAVE MONITOR (MariaDB 10.5.9+; REPLICATION CLIENT before): error 1227: Access denied; you need (at least one of) the SUPER, SLAVE MONITOR privilege(s) for this operation")]
    [InlineData("10.3.39-MariaDB", "SHOW SLAVE STATUS denied: needs REPLICATION CLIENT: error 1227: Access denied; you need (at least one of) the SUPER, SLAVE MONITOR privilege(s) for this operation")]
    [InlineData(MySql8, "SHOW REPLICA STATUS denied: needs REPLICATION CLIENT: error 1227: Access denied; you need (at least one of) the SUPER, SLAVE MONITOR privilege(s) for this operation")]
    public void Lag_without_the_privilege_says_which_one_is_missing(string server, string reason)
    {
        string statement = MySqlRoleVerdict.ReplicaStatusStatement(server);
        ProbeResult result = Decide(Check with { MaxReplicationLag = 5 },
            replica: Error(statement, 1227, "Access denied; you need (at least one of) the SUPER, SLAVE MONITOR privilege(s) for this operation"), server: server);

        AssertVerdict(false, reason, result);
        Assert.Equal(1227, result.ErrorCode);
    }

    [Theory]
    [InlineData(MariaDb, "SHOW SLAVE STATUS")]
    [InlineData("5.5.5-10.11.6-MariaDB", "SHOW SLAVE STATUS")]
    [InlineData("8.0.21", "SHOW SLAVE STATUS")]
    [InlineData("8.0.22", "SHOW REPLICA STATUS")]
    [InlineData("8.4.3", "SHOW REPLICA STATUS")]
    [InlineData("5.7.44-log", "SHOW SLAVE STATUS")]
    public void Replica_status_statement_by_server(string server, string statement) =>
        Assert.Equal(statement, MySqlRoleVerdict.ReplicaStatusStatement(server));

    // ---- Galera

    [Theory]
    [InlineData("ON", "4", "Synced", "OFF", false, true, "wsrep_local_state 4 (Synced)")]
    [InlineData("ON", "2", "Donor/Desynced", "OFF", false, false, "wsrep_local_state 2 (Donor/Desynced)")]
    [InlineData("ON", "2", "Donor/Desynced", "OFF", true, true, "wsrep_local_state 2 (Donor/Desynced), galera_donor_ok")]
    [InlineData("ON", "2", null, "OFF", false, false, "wsrep_local_state 2 (Donor/Desynced)")]
    [InlineData("ON", "1", "Joining", "OFF", true, false, "wsrep_local_state 1 (Joining)")]
    [InlineData("ON", "3", "Joined", "OFF", true, false, "wsrep_local_state 3 (Joined)")]
    [InlineData("OFF", "4", "Synced", "OFF", false, false, "wsrep_ready=OFF")]
    [InlineData("ON", "2", "Donor/Desynced", "ON", true, false, "wsrep_desync=ON")]
    [InlineData("ON", "4", "Synced", "ON", false, false, "wsrep_desync=ON")]
    public void Galera(string ready, string state, string? comment, string desync, bool donorOk, bool up, string reason)
    {
        var rows = new List<(string, string?)> { ("wsrep_ready", ready), ("wsrep_local_state", state) };
        if (comment is not null)
        {
            rows.Add(("wsrep_local_state_comment", comment));
        }

        AssertVerdict(up, reason, Decide(Check with { Galera = true, GaleraDonorOk = donorOk },
            variables: Variables(("wsrep_desync", desync)), galera: Status([.. rows])));
    }

    [Fact]
    public void Galera_on_a_server_without_wsrep_is_down() =>
        AssertVerdict(false, "not a Galera node: no wsrep_ready status", Decide(Check with { Galera = true }, Variables(), Status()));

    [Fact]
    public void Galera_with_a_refused_variables_query_is_down_not_silently_up() =>
        AssertVerdict(false, "SHOW GLOBAL VARIABLES failed: error 1227: Access denied",
            Decide(Check with { Galera = true }, Error("SHOW GLOBAL VARIABLES", 1227, "Access denied"),
                Status(("wsrep_ready", "ON"), ("wsrep_local_state", "4"))));

    // ---- query / expect

    [Theory]
    [InlineData(null, null, "ok", true, "query returned 'ok'")]
    [InlineData("ok", null, "ok", true, "query returned 'ok' as expected")]
    [InlineData("ok", null, "OK", false, "query returned 'OK', expected 'ok'")]
    [InlineData("ok", null, null, false, "query returned NULL, expected 'ok'")]
    [InlineData(null, "^[1-9][0-9]*$", "42", true, "query returned '42', matches /^[1-9][0-9]*$/")]
    [InlineData(null, "^[1-9][0-9]*$", "0", false, "query returned '0', does not match /^[1-9][0-9]*$/")]
    [InlineData(null, "x", null, false, "query returned NULL, expected a match of /x/")]
    public void Query(string? expect, string? regex, string? value, bool up, string reason) =>
        AssertVerdict(up, reason, Decide(Check with { Query = "q", Expect = expect, ExpectRegex = regex }, query: Single(value)));

    [Fact]
    public void Query_without_rows()
    {
        var empty = MySqlQueryOutcome.Of("q", new MySqlResultSet(["c"], []));

        AssertVerdict(true, "query returned no rows", Decide(Check with { Query = "q" }, query: empty));
        AssertVerdict(false, "query returned no rows", Decide(Check with { Query = "q", Expect = "1" }, query: empty));
    }

    [Fact]
    public void Query_error_is_down_with_the_server_error() =>
        AssertVerdict(false, "query failed: error 1146: Table 'app.t' doesn't exist",
            Decide(Check with { Query = "q", Expect = "1" }, query: Error("q", 1146, "Table 'app.t' doesn't exist")));

    [Fact]
    public void Long_values_are_cut_in_the_reason()
    {
        ProbeResult result = Decide(Check with { Query = "q", Expect = "short" }, query: Single(new string('x', 500)));

        Assert.False(result.IsUp);
        Assert.Equal($"query returned '{new string('x', 80)}…', expected 'short'", result.Reason);
    }

    // ---- together

    [Fact]
    public void All_pass_joins_the_reasons_in_order()
    {
        ProbeResult result = Decide(Check with { Role = MySqlRole.Replica, MaxReplicationLag = 10, Query = "q", Expect = "ok" },
            Variables(("read_only", "ON")), replica: Replica("3"), query: Single("ok"));

        AssertVerdict(true, "read_only=ON, role replica; lag 3 s <= 10 s; query returned 'ok' as expected", result);
    }

    [Fact]
    public void The_first_failure_is_the_reason()
    {
        ProbeResult result = Decide(Check with { Role = MySqlRole.Replica, MaxReplicationLag = 10, Query = "q", Expect = "ok" },
            Variables(("read_only", "ON")), replica: Replica("42"), query: Single("bad"));

        AssertVerdict(false, "lag 42 s > 10 s", result);
    }
}
