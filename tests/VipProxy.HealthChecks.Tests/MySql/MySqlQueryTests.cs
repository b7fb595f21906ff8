using System.Net.Sockets;
using System.Text;
using VipProxy.Config.Model;
using VipProxy.HealthChecks.Probes;
using VipProxy.HealthChecks.Probes.MySql;
using VipProxy.HealthChecks.Tests.Support;
using static VipProxy.HealthChecks.Tests.MySql.FakeMySqlServer;

namespace VipProxy.HealthChecks.Tests.MySql;

/// <summary>COM_QUERY and the text-protocol result set, byte by byte against a scripted server: with and without
/// CLIENT_DEPRECATE_EOF, NULLs, long values, an ERR instead of rows, a CALL's extra results.</summary>
public sealed class MySqlQueryTests
{
    private static byte[] LengthEncoded(string? value)
    {
        if (value is null)
        {
            return [0xFB];
        }

        byte[] text = Encoding.UTF8.GetBytes(value);
        return text.Length < 251
            ? [(byte)text.Length, .. text]
            : [0xFC, (byte)text.Length, (byte)(text.Length >> 8), .. text];
    }

    private static byte[] Column(string name) =>
        [.. LengthEncoded("def"), .. LengthEncoded(""), .. LengthEncoded(""), .. LengthEncoded(""), .. LengthEncoded(name), .. LengthEncoded(name),
         0x0c, 0x21, 0x00, 0xff, 0x00, 0x00, 0x00, 0xfd, 0x00, 0x00, 0x00, 0x00, 0x00];

    private static byte[] Row(params string?[] values) => [.. values.SelectMany(LengthEncoded)];

    private static byte[] Eof(ushort status = 0x0002) => [0xFE, 0x00, 0x00, (byte)status, (byte)(status >> 8)];

    private static byte[] OkTerminator(ushort status = 0x0002) => [0xFE, 0x00, 0x00, (byte)status, (byte)(status >> 8), 0x00, 0x00];

    /// <summary>Sends a result set starting at sequence 1; returns the next sequence.</summary>
    private static async Task<byte> SendResultSetAsync(Connection client, bool deprecateEof, string[] columns, string?[][] rows,
        byte sequence = 1, ushort status = 0x0002)
    {
        await client.SendAsync(sequence++, [(byte)columns.Length]);
        foreach (string column in columns)
        {
            await client.SendAsync(sequence++, Column(column));
        }

        if (!deprecateEof)
        {
            await client.SendAsync(sequence++, Eof());
        }

        foreach (string?[] row in rows)
        {
            await client.SendAsync(sequence++, Row(row));
        }

        await client.SendAsync(sequence++, deprecateEof ? OkTerminator(status) : Eof(status));
        return sequence;
    }

    private static async Task<MySqlQueryOutcome> QueryAsync(FakeMySqlServer server, string sql, MySqlCapabilities negotiated)
    {
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(server.EndPoint);
        var channel = new MySqlPacketChannel(socket);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        MySqlQueryOutcome outcome = await MySqlQuery.RunAsync(channel, sql, negotiated, timeout.Token);
        await server.Conversation;
        return outcome;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Result_set_with_and_without_deprecate_eof(bool deprecateEof)
    {
        string longValue = new('v', 300);
        await using var server = new FakeMySqlServer(async client =>
        {
            var query = await client.ReadAsync();
            Assert.Equal(0, query.Sequence);
            Assert.Equal([0x03, .. Encoding.UTF8.GetBytes("SHOW SLAVE STATUS")], query.Payload);
            await SendResultSetAsync(client, deprecateEof, ["Slave_IO_Running", "Seconds_Behind_Master", "Long"],
                [["Yes", null, longValue], ["No", "3", ""]]);
        });

        MySqlQueryOutcome outcome = await QueryAsync(server, "SHOW SLAVE STATUS", deprecateEof ? MySqlCapabilities.DeprecateEof : MySqlCapabilities.None);

        Assert.Null(outcome.Error);
        Assert.Equal(["Slave_IO_Running", "Seconds_Behind_Master", "Long"], outcome.Result!.Columns);
        Assert.Equal(2, outcome.Result.Rows.Count);
        Assert.Equal(["Yes", null, longValue], outcome.Result.Rows[0]);
        Assert.Equal(["No", "3", ""], outcome.Result.Rows[1]);
    }

    [Fact]
    public async Task Ok_reply_is_an_empty_result()
    {
        await using var server = new FakeMySqlServer(async client =>
        {
            await client.ReadAsync();
            await client.SendAsync(1, Ok());
        });

        MySqlQueryOutcome outcome = await QueryAsync(server, "DO 1", MySqlCapabilities.None);

        Assert.Empty(outcome.Result!.Columns);
        Assert.Empty(outcome.Result.Rows);
    }

    [Fact]
    public async Task Err_reply_is_the_servers_error()
    {
        await using var server = new FakeMySqlServer(async client =>
        {
            await client.ReadAsync();
            await client.SendAsync(1, Error(1227, "42000", "Access denied; you need (at least one of) the REPLICATION CLIENT privilege(s) for this operation"));
        });

        MySqlQueryOutcome outcome = await QueryAsync(server, "SHOW REPLICA STATUS", MySqlCapabilities.None);

        Assert.Null(outcome.Result);
        Assert.Equal((1227, "42000"), (outcome.Error!.Code, outcome.Error.SqlState));
        Assert.Contains("REPLICATION CLIENT", outcome.Error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Err_in_the_middle_of_the_rows_is_the_servers_error()
    {
        await using var server = new FakeMySqlServer(async client =>
        {
            await client.ReadAsync();
            await client.SendAsync(1, [1]);
            await client.SendAsync(2, Column("c"));
            await client.SendAsync(3, Eof());
            await client.SendAsync(4, Row("1"));
            await client.SendAsync(5, Error(1317, "70100", "Query execution was interrupted"));
        });

        MySqlQueryOutcome outcome = await QueryAsync(server, "SELECT c FROM t", MySqlCapabilities.None);

        Assert.Equal(1317, outcome.Error!.Code);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task More_results_are_read_and_dropped(bool deprecateEof)
    {
        await using var server = new FakeMySqlServer(async client =>
        {
            await client.ReadAsync();
            const ushort MoreResults = 0x000A;
            byte next = await SendResultSetAsync(client, deprecateEof, ["a"], [["first"]], status: MoreResults);
            next = await SendResultSetAsync(client, deprecateEof, ["b"], [["second"]], next, MoreResults);
            await client.SendAsync(next, Ok());
            // The client must now be at a command boundary: its next packet is a new command.
            var quit = await client.ReadAsync();
            Assert.Equal(0, quit.Sequence);
            Assert.Equal([0x01], quit.Payload);
        });

        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(server.EndPoint);
        var channel = new MySqlPacketChannel(socket);
        MySqlQueryOutcome outcome = await MySqlQuery.RunAsync(channel, "CALL p()", deprecateEof ? MySqlCapabilities.DeprecateEof : MySqlCapabilities.None, CancellationToken.None);
        await channel.WriteCommandAsync(0x01, CancellationToken.None);
        await server.Conversation;

        Assert.Equal("first", outcome.Result!.Rows.Single()[0]);
    }

    [Fact]
    public async Task Probe_against_a_MySQL_8_with_super_read_only_asks_show_variables_then_quits()
    {
        byte[] scramble = [.. Enumerable.Range(1, 20).Select(i => (byte)i)];
        var statements = new List<string>();
        await using var server = new FakeMySqlServer(async client =>
        {
            await client.SendAsync(0, Greeting(scramble, "mysql_native_password"));
            await client.ReadAsync();
            await client.SendAsync(2, Ok());
            while (true)
            {
                var command = await client.ReadAsync();
                Assert.Equal(0, command.Sequence);
                if (command.Payload is [0x01])
                {
                    Assert.True(await client.ClosedByClientAsync());
                    return;
                }

                Assert.Equal(0x03, command.Payload[0]);
                string sql = Encoding.UTF8.GetString(command.Payload, 1, command.Payload.Length - 1);
                statements.Add(sql);
                if (sql.StartsWith("SHOW GLOBAL VARIABLES", StringComparison.Ordinal))
                {
                    await SendResultSetAsync(client, false, ["Variable_name", "Value"], [["read_only", "OFF"], ["super_read_only", "ON"]]);
                }
                else
                {
                    await SendResultSetAsync(client, false, ["Replica_IO_Running", "Replica_SQL_Running", "Seconds_Behind_Source"], [["Yes", "Yes", "0"]]);
                }
            }
        });
        var probe = new MySqlProbe(Settings.Target(server.EndPoint, timeoutSeconds: 5),
            new MySqlCheck(Settings.Check(), "chk", "pw", null) { Role = MySqlRole.Primary, MaxReplicationLag = 5 });

        ProbeResult result = await probe.ProbeAsync(CancellationToken.None);
        await server.Conversation;

        Assert.False(result.IsUp);
        Assert.Equal("super_read_only=ON, role primary", result.Reason);
        Assert.Equal(["SHOW GLOBAL VARIABLES WHERE Variable_name IN ('read_only', 'super_read_only')", "SHOW REPLICA STATUS"], statements);
    }
}
