using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using MySqlConnector;
using VipProxy.Lab;
using VipProxy.Scenario.Tests.Forwarding;
using Xunit.Abstractions;
using static VipProxy.Scenario.Tests.Daemon.HotStandbyLan;

namespace VipProxy.Scenario.Tests.Daemon;

/// <summary>
/// Issue 16: a MariaDB primary (rs1) and its GTID replica (rs2) behind both nodes. VIP:8066 is the writer pool
/// (<c>MYSQL_CHECK { role primary }</c>), VIP:8067 the reader pool (<c>role replica</c>, <c>max_replication_lag</c>),
/// both checked independently by each node. A DBA's switchover — old primary read-only, replica caught up, replica
/// promoted, old primary made a replica of the new one — must move the writer pool on both nodes, and a write
/// workload through the VIP across it must never write to the read-only server or lose an acknowledged write:
/// the database's own read_only is the fence, so the two nodes need not talk to agree.
/// </summary>
[Collection(NetworkScenariosCollection.Name)]
[Trait("Category", "Root")]
public sealed class MySqlSwitchoverScenario(ITestOutputHelper output)
{
    private const int ReaderPort = 8067;
    private const string ReplicationUser = "repl", ReplicationPassword = "repl-secret";
    private const int MaxLagSeconds = 5;
    private const int ReaderWeight = 100;

    /// <summary>A role check's verdict is seen after one delay_loop plus the check (connect_timeout 1); generous margin.</summary>
    private static readonly TimeSpan RoleChangeBound = TimeSpan.FromSeconds(1 + 1 + 3);

    private static HotStandbySetup Replication() => new()
    {
        // The binary log the replica reads (HotStandbyLan's servers run without one); GTIDs are always on in MariaDB.
        MariaDbArguments = ["--log-bin=mysql-bin", "--binlog-format=ROW", "--log-slave-updates"],
        DataCheckOptions = "role primary",
        // Both nodes see the same databases, so a pool without a server (no replica, or no writer during the
        // switchover) is as dead on the backup: moving the VIP would only make every node FAULT and take the
        // other pool down with it. The VIP follows the nodes, the pools follow the databases.
        InstanceOptions = "dont_track_virtual_servers",
        ExtraVirtualServers = lan => $$"""
            virtual_server {{Vrrp.Vip}} {{ReaderPort}} {
                delay_loop 1
                lb_algo rr
                lb_kind NAT
                protocol TCP
                real_server {{lan.Rs1Back}} {{DataPort}} {
                    weight {{ReaderWeight}}
                    {{ReaderCheck}}
                }
                real_server {{lan.Rs2Back}} {{DataPort}} {
                    weight {{ReaderWeight}}
                    {{ReaderCheck}}
                }
            }
            """,
        PrepareDatabases = PrepareReplicationAsync,
        Ready = s => Writer(s) == "rs1" && Reader(s) == "rs2",
        ReadyDescription = "writer pool on rs1, reader pool on rs2",
    };

    private static string ReaderCheck => $$"""
        MYSQL_CHECK {
                        user monitor
                        password m0n-secret
                        connect_timeout 1
                        retry 1
                        delay_before_retry 0.5
                        warmup 0
                        role replica
                        max_replication_lag {{MaxLagSeconds}}
                        lag_weight on
                    }
        """;

    /// <summary>rs1 the primary with the schema; rs2 read-only, replicating from rs1 by GTID and caught up.</summary>
    private static async Task PrepareReplicationAsync(HotStandbyLan lan)
    {
        await lan.Db1.ExecuteSqlAsync(
            $"CREATE USER '{ReplicationUser}'@'%' IDENTIFIED BY '{ReplicationPassword}'; GRANT REPLICATION SLAVE ON *.* TO '{ReplicationUser}'@'%'; " +
            "GRANT SLAVE MONITOR ON *.* TO 'monitor'@'%'; " +
            "CREATE DATABASE shop; CREATE TABLE shop.orders (id INT AUTO_INCREMENT PRIMARY KEY, writer INT NOT NULL, item VARCHAR(40) NOT NULL UNIQUE); " +
            $"GRANT SELECT, INSERT ON shop.* TO '{AppUser}'@'%';");

        // The replica starts from the primary's first event: the users and grants above arrive by replication.
        await lan.Db2.ExecuteSqlAsync("SET GLOBAL read_only = ON; " + ChangeMasterTo(lan.Rs1Back.ToString(), "slave_pos") + "; START SLAVE;");
        await CatchUpAsync(lan.Db1, lan.Db2);
    }

    private static string ChangeMasterTo(string host, string gtidPosition) =>
        $"CHANGE MASTER TO MASTER_HOST='{host}', MASTER_PORT={DataPort}, MASTER_USER='{ReplicationUser}', " +
        $"MASTER_PASSWORD='{ReplicationPassword}', MASTER_USE_GTID={gtidPosition}, MASTER_CONNECT_RETRY=1";

    /// <summary>Waits until <paramref name="replica"/> has applied everything <paramref name="primary"/> has logged.</summary>
    private static async Task CatchUpAsync(MariaDbServer primary, MariaDbServer replica)
    {
        string position = await primary.ExecuteSqlAsync("SELECT @@gtid_binlog_pos");
        string waited = await replica.ExecuteSqlAsync($"SELECT MASTER_GTID_WAIT('{MariaDbServer.Escape(position)}', 20)");
        Assert.True(waited == "0", $"replica did not reach GTID {position} within 20 s (MASTER_GTID_WAIT returned {waited})");
    }

    /// <summary>Which host the node's writer pool (VIP:8066) has up: "rs1", "rs2", "none" or "both".</summary>
    private static string Writer(NodeStatus status) => UpSet(status.Service(DataPort));

    private static string Reader(NodeStatus status) => UpSet(status.Service(ReaderPort));

    /// <summary>The weight the reader pool gives rs1 while it is up (-1 while it is down).</summary>
    private static int ReaderWeightOf(NodeStatus status, HotStandbyLan lan) =>
        status.Service(ReaderPort).RealServer(lan.Rs1Back) is { Up: true } r ? r.Weight : -1;

    /// <summary>The writer pool's <c>writer_conflict</c> field in <c>vipproxy status --json</c>.</summary>
    private static bool InWriterConflict(NodeStatus status)
    {
        using var document = System.Text.Json.JsonDocument.Parse(status.Json);
        return document.RootElement.GetProperty("virtual_servers").EnumerateArray()
            .Single(v => v.GetProperty("port").GetInt32() == DataPort)
            .GetProperty("writer_conflict").GetBoolean();
    }

    private static string UpSet(ServiceView service)
    {
        var up = service.RealServers.Where(r => r.Up).Select(r => r.Address).ToList();
        return up.Count switch
        {
            0 => "none",
            1 => up[0].EndsWith(".11", StringComparison.Ordinal) ? "rs1" : "rs2",
            _ => "both",
        };
    }

    [Fact]
    public async Task A_switchover_moves_the_writer_pool_on_both_nodes_and_no_write_lands_on_the_read_only_server_or_is_lost()
    {
        using var files = new ScenarioFiles();
        await using var lan = await StartAsync(output.WriteLine, files, Replication());
        var clock = Stopwatch.StartNew();
        var samples = new ConcurrentQueue<(TimeSpan At, string Node, string Writer, string Reader)>();
        using var sampling = new CancellationTokenSource();
        var sampler = Task.Run(() => SampleAsync(lan, clock, samples, sampling.Token));
        var writes = new WriteLoad();
        var writers = Enumerable.Range(0, 3).Select(k => Task.Run(() => WriteLoopAsync(lan.ThreadIn(lan.Client), k, clock, writes, TimeSpan.FromSeconds(90)))).ToArray();
        TimeSpan conflictAt, conflictSeen, conflictEnding, conflictOver, readOnlyAt, promotedAt, bothMoved;
        List<(string Name, string Labels, double Value)> conflictMetrics;
        NodeStatus laggingStatus;
        string replicaStoppedReason;
        try
        {
            // 1. Steady state: writes go to rs1, replica reads to rs2.
            await WaitForWritesAsync(writes, TimeSpan.Zero, serverId: 1, count: 10);
            var reads = await ReadServerIdsAsync(lan, 6);
            Assert.All(reads, id => Assert.Equal(2, id));

            // 2. Replication stops on the replica: its lag is unknown (NULL), so the reader pool takes it out with
            //    the reason; restarted and caught up, it is back.
            await lan.Db2.ExecuteSqlAsync("STOP SLAVE");
            await Task.WhenAll(
                EventuallyAsync(lan.Node1, s => Reader(s) == "none", "lb1: replica out of the reader pool", RoleChangeBound + TimeSpan.FromSeconds(2)),
                EventuallyAsync(lan.Node2, s => Reader(s) == "none", "lb2: replica out of the reader pool", RoleChangeBound + TimeSpan.FromSeconds(2)));
            var stopped = await StatusFromCliAsync(lan.Node1);
            replicaStoppedReason = stopped.Service(ReaderPort).RealServer(lan.Rs2Back).LastCheck ?? "";
            Assert.Contains("replication stopped", replicaStoppedReason, StringComparison.Ordinal);
            await lan.Db2.ExecuteSqlAsync("START SLAVE");
            await CatchUpAsync(lan.Db1, lan.Db2);
            await Task.WhenAll(
                EventuallyAsync(lan.Node1, s => Reader(s) == "rs2", "lb1: replica back", RoleChangeBound),
                EventuallyAsync(lan.Node2, s => Reader(s) == "rs2", "lb2: replica back", RoleChangeBound));

            // 3. A mistake: the replica is made writable while the primary still is. Two writers: with the default
            //    writer_conflict refuse, both nodes take neither, say so in status and metrics, and take rs1 back
            //    once the replica is read-only again.
            conflictAt = clock.Elapsed;
            await lan.Db2.ExecuteSqlAsync("SET GLOBAL read_only = OFF");
            await Task.WhenAll(
                EventuallyAsync(lan.Node1, s => Writer(s) == "none" && InWriterConflict(s), "lb1: writer conflict, no writer", RoleChangeBound),
                EventuallyAsync(lan.Node2, s => Writer(s) == "none" && InWriterConflict(s), "lb2: writer conflict, no writer", RoleChangeBound));
            conflictSeen = clock.Elapsed;
            conflictMetrics = PrometheusText.Parse(await lan.ScrapeMetricsAsync(lan.Lb1));
            await Task.Delay(TimeSpan.FromSeconds(1.5));
            conflictEnding = clock.Elapsed;
            await lan.Db2.ExecuteSqlAsync("SET GLOBAL read_only = ON");
            await Task.WhenAll(
                EventuallyAsync(lan.Node1, s => Writer(s) == "rs1" && !InWriterConflict(s), "lb1: writer rs1 again", RoleChangeBound),
                EventuallyAsync(lan.Node2, s => Writer(s) == "rs1" && !InWriterConflict(s), "lb2: writer rs1 again", RoleChangeBound));
            conflictOver = clock.Elapsed;
            await WaitForWritesAsync(writes, conflictOver, serverId: 1, count: 5);

            // 4. The switchover, as a DBA runs it.
            await lan.Db1.ExecuteSqlAsync("SET GLOBAL read_only = ON");
            readOnlyAt = clock.Elapsed;
            await CatchUpAsync(lan.Db1, lan.Db2);
            await lan.Db2.ExecuteSqlAsync("STOP SLAVE; RESET SLAVE ALL; SET GLOBAL read_only = OFF");
            promotedAt = clock.Elapsed;
            // The old primary follows the new one from where its own binary log ends.
            await lan.Db1.ExecuteSqlAsync(ChangeMasterTo(lan.Rs2Back.ToString(), "current_pos") + "; START SLAVE;");
            await Task.WhenAll(
                EventuallyAsync(lan.Node1, s => Writer(s) == "rs2" && Reader(s) == "rs1", "lb1: writer rs2, reader rs1", RoleChangeBound + TimeSpan.FromSeconds(3)),
                EventuallyAsync(lan.Node2, s => Writer(s) == "rs2" && Reader(s) == "rs1", "lb2: writer rs2, reader rs1", RoleChangeBound + TimeSpan.FromSeconds(3)));
            bothMoved = clock.Elapsed;

            // 5. Writes continue on the new primary.
            await WaitForWritesAsync(writes, bothMoved, serverId: 2, count: 10);
            reads = await ReadServerIdsAsync(lan, 6);
            Assert.All(reads, id => Assert.Equal(1, id));

            // 6. A real lag on the new replica (MASTER_DELAY holds its SQL thread back while the writers go on):
            //    with lag_weight it stays in the reader pool at a smaller weight, and is back at full weight in sync.
            await lan.Db1.ExecuteSqlAsync("STOP SLAVE; CHANGE MASTER TO MASTER_DELAY=3; START SLAVE;");
            var lagging = await EventuallyAsync(lan.Node1, s => ReaderWeightOf(s, lan) is > 0 and < ReaderWeight, "lb1: lagging replica at a smaller weight", TimeSpan.FromSeconds(15));
            laggingStatus = await StatusFromCliAsync(lan.Node1);
            await lan.Db1.ExecuteSqlAsync("STOP SLAVE; CHANGE MASTER TO MASTER_DELAY=0; START SLAVE;");
            await EventuallyAsync(lan.Node1, s => ReaderWeightOf(s, lan) == ReaderWeight, "lb1: replica in sync at full weight", TimeSpan.FromSeconds(15));
        }
        finally
        {
            await writes.Stop.CancelAsync();
            await Task.WhenAny(Task.WhenAll(writers), Task.Delay(TimeSpan.FromSeconds(10)));
            await sampling.CancelAsync();
            await sampler;
        }

        var all = writes.Outcomes.OrderBy(w => w.Started).ToList();
        var acked = all.Where(w => w.Succeeded).ToList();
        var failed = all.Where(w => !w.Succeeded).ToList();
        var firstOnNew = acked.First(w => w.ServerId == 2).Started;
        output.WriteLine($"{all.Count} writes: {acked.Count(w => w.ServerId == 1)} on rs1, {acked.Count(w => w.ServerId == 2)} on rs2, {failed.Count} failed; " +
            $"conflict made at {conflictAt.TotalMilliseconds:F0} ms, seen {conflictSeen.TotalMilliseconds:F0} ms, resolved at {conflictEnding.TotalMilliseconds:F0} ms, over {conflictOver.TotalMilliseconds:F0} ms; " +
            $"read_only at {readOnlyAt.TotalMilliseconds:F0} ms, promoted at {promotedAt.TotalMilliseconds:F0} ms, both nodes moved at {bothMoved.TotalMilliseconds:F0} ms " +
            $"({(bothMoved - promotedAt).TotalMilliseconds:F0} ms after the promotion, bound {(RoleChangeBound + TimeSpan.FromSeconds(3)).TotalMilliseconds:F0} ms); " +
            $"first write on the new primary started {(firstOnNew - promotedAt).TotalMilliseconds:F0} ms after the promotion; replica stopped: '{replicaStoppedReason}'");
        var lagged = laggingStatus.Service(ReaderPort).RealServer(lan.Rs1Back);
        output.WriteLine($"lagging replica (MASTER_DELAY=3): weight {lagged.Weight} of {ReaderWeight}, last check '{lagged.LastCheck}'");
        Assert.Matches(@"lag [1-5] s <= 5 s: weight [0-9]+ %$", lagged.LastCheck ?? "");
        foreach (var failure in failed)
        {
            output.WriteLine($"  {failure.Item} failed {failure.Started.TotalMilliseconds:F0}–{failure.Ended.TotalMilliseconds:F0} ms: {failure.Error}");
        }

        // While both nodes showed the conflict, nothing was written to either server.
        var duringConflict = all.Where(w => w.Started > conflictSeen && w.Ended < conflictEnding).ToList();
        Assert.NotEmpty(duringConflict);
        Assert.All(duringConflict, w => Assert.False(w.Succeeded, $"{w.Item} written to server {w.ServerId} during the writer conflict"));
        Assert.Contains(conflictMetrics, m => m.Name == "vipproxy_virtual_server_writer_conflict" && m.Labels.Contains($":{DataPort}\"", StringComparison.Ordinal) && m.Value == 1);
        Assert.Contains(conflictMetrics, m => m.Name == "vipproxy_virtual_server_writer_conflicts_total" && m.Labels.Contains($":{DataPort}\"", StringComparison.Ordinal) && m.Value == 1);
        Assert.Contains(lan.Node1.Process.OutputLines, l => l.Contains("more than one writer reports writable", StringComparison.Ordinal));

        // No write was acknowledged by the read-only server: nothing started after read_only went ON landed on rs1.
        Assert.DoesNotContain(acked, w => w.ServerId == 1 && w.Started > readOnlyAt);
        // Writes failed only inside the switchover window (there is no hold_timeout here): from the moment both nodes
        // had moved, every write succeeded.
        Assert.All(failed, w => Assert.True(w.Started < bothMoved, $"write at {w.Started} failed after the switchover: {w.Error}"));
        Assert.DoesNotContain(acked, w => w.ServerId == 2 && w.Started < readOnlyAt);

        // No acknowledged write is lost: every one is on the new primary, and the old one (now its replica) has the same rows.
        await CatchUpAsync(lan.Db2, lan.Db1);
        var onNew = (await lan.Db2.ExecuteSqlAsync("SELECT item FROM shop.orders")).Split('\n', StringSplitOptions.RemoveEmptyEntries).ToHashSet(StringComparer.Ordinal);
        var onOld = (await lan.Db1.ExecuteSqlAsync("SELECT item FROM shop.orders")).Split('\n', StringSplitOptions.RemoveEmptyEntries).ToHashSet(StringComparer.Ordinal);
        var lost = acked.Where(w => !onNew.Contains(w.Item)).ToList();
        Assert.True(lost.Count == 0, $"{lost.Count} acknowledged writes missing on the new primary: {string.Join(", ", lost.Take(5).Select(w => w.Item))}");
        Assert.True(onOld.SetEquals(onNew), $"old primary has {onOld.Count} rows, new primary {onNew.Count}");
        long rowsByOldPrimary = long.Parse(await lan.Db2.ExecuteSqlAsync("SELECT COUNT(*) FROM shop.orders WHERE writer = 1"), CultureInfo.InvariantCulture);
        Assert.Equal(acked.Count(w => w.ServerId == 1), rowsByOldPrimary);

        // The two nodes, each checking on its own, agreed in every settled phase, and neither ever had two writers.
        var observed = samples.ToList();
        output.WriteLine($"{observed.Count} status samples; writer sets seen: {string.Join(", ", observed.GroupBy(s => (s.Node, s.Writer)).Select(g => $"{g.Key.Node}={g.Key.Writer}×{g.Count()}"))}");
        Assert.DoesNotContain(observed, s => s.Writer == "both");
        Assert.All(observed.Where(s => s.At < conflictAt || (s.At > conflictOver && s.At < readOnlyAt)), s => Assert.Equal("rs1", s.Writer));
        Assert.All(observed.Where(s => s.At > bothMoved), s => Assert.Equal("rs2", s.Writer));
        Assert.True(bothMoved - promotedAt <= RoleChangeBound + TimeSpan.FromSeconds(3), $"writer pool moved {bothMoved - promotedAt} after the promotion");
    }

    private static async Task SampleAsync(HotStandbyLan lan, Stopwatch clock, ConcurrentQueue<(TimeSpan, string, string, string)> samples, CancellationToken token)
    {
        while (!token.IsCancellationRequested)
        {
            foreach (var node in new[] { lan.Node1, lan.Node2 })
            {
                try
                {
                    var status = await StatusAsync(node);
                    samples.Enqueue((clock.Elapsed, node.Host.Name, Writer(status), Reader(status)));
                }
                catch (Exception e) when (e is SocketException or IOException or TimeoutException)
                {
                    // A busy control socket only costs a sample.
                }
            }

            try
            {
                await Task.Delay(TimeSpan.FromMilliseconds(100), token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private static async Task WaitForWritesAsync(WriteLoad writes, TimeSpan after, int serverId, int count) =>
        await Eventually.TrueAsync(() => writes.Outcomes.Count(w => w.Succeeded && w.ServerId == serverId && w.Started >= after) >= count,
            TimeSpan.FromSeconds(20), $"{count} writes on server {serverId}", TimeSpan.FromMilliseconds(50));

    /// <summary><paramref name="count"/> sessions through the reader pool (VIP:8067): each one's @@server_id.</summary>
    private static async Task<List<int>> ReadServerIdsAsync(HotStandbyLan lan, int count)
    {
        var thread = lan.ThreadIn(lan.Client);
        var ids = new List<int>();
        for (int i = 0; i < count; i++)
        {
            ids.Add(await thread.RunAsync(() =>
            {
                using var connection = new MySqlConnection(ConnectionString(ReaderPort));
                connection.Open();
                using var command = new MySqlCommand("SELECT @@server_id", connection);
                return Convert.ToInt32(command.ExecuteScalar(), CultureInfo.InvariantCulture);
            }));
        }

        return ids;
    }

    private static string ConnectionString(int port) => new MySqlConnectionStringBuilder
    {
        Server = Vrrp.Vip.ToString(),
        Port = (uint)port,
        UserID = AppUser,
        Password = AppPassword,
        Pooling = false,
        SslMode = MySqlSslMode.None,
        ConnectionTimeout = 2,
        DefaultCommandTimeout = 3,
    }.ConnectionString;

    /// <summary>
    /// One writer: a new session per write (an application that reconnects on error), each inserting a unique item
    /// and reporting which server took it. Bounded by <paramref name="limit"/> and 2,000 writes.
    /// </summary>
    private static async Task WriteLoopAsync(NamespaceThread thread, int writer, Stopwatch clock, WriteLoad load, TimeSpan limit)
    {
        string connectionString = ConnectionString(DataPort);
        for (int n = 0; n < 2000 && !load.Stop.IsCancellationRequested && clock.Elapsed < limit; n++)
        {
            string item = $"w{writer}-{n}";
            load.Outcomes.Enqueue(await thread.RunAsync(() => WriteOnce(connectionString, item, clock)));
            try
            {
                await Task.Delay(TimeSpan.FromMilliseconds(40), load.Stop.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private static WriteOutcome WriteOnce(string connectionString, string item, Stopwatch clock)
    {
        var started = clock.Elapsed;
        try
        {
            using var connection = new MySqlConnection(connectionString);
            connection.Open();
            using var command = new MySqlCommand("INSERT INTO shop.orders (writer, item) VALUES (@@server_id, @item); SELECT @@server_id", connection);
            command.Parameters.AddWithValue("@item", item);
            int serverId = Convert.ToInt32(command.ExecuteScalar(), CultureInfo.InvariantCulture);
            return new WriteOutcome(item, started, clock.Elapsed, serverId, null);
        }
        catch (Exception e) when (e is MySqlException or SocketException or IOException or InvalidOperationException or TimeoutException)
        {
            return new WriteOutcome(item, started, clock.Elapsed, 0, $"{e.GetType().Name}: {e.Message}");
        }
    }

    private sealed record WriteOutcome(string Item, TimeSpan Started, TimeSpan Ended, int ServerId, string? Error)
    {
        public bool Succeeded => Error is null;
    }

    private sealed class WriteLoad
    {
        public ConcurrentQueue<WriteOutcome> Outcomes { get; } = new();

        public CancellationTokenSource Stop { get; } = new();
    }
}
