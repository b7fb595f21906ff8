using System.Net;
using Xunit.Abstractions;
using static VipProxy.Scenario.Tests.Forwarding.ForwardingConfig;

namespace VipProxy.Scenario.Tests.Forwarding;

/// <summary>
/// Schedulers and persistence of the real daemon, seen from a client host: client → LB (vipproxy, VIP) → two
/// real-server hosts, each running a process that answers with its host name. The loopback tests
/// (VipProxy.Forwarding.Tests SchedulingThroughProxyTests) drive the runtime in-process; here it is
/// <c>vipproxy run</c> reading keepalived.conf, across namespaces.
/// </summary>
[Collection(NetworkScenariosCollection.Name)]
[Trait("Category", "Root")]
public sealed class SchedulingScenarios(ITestOutputHelper output)
{
    private const int Rr = 8001, Wrr = 8002, Sh = 8003, Mh = 8004, Persistent = 8005;

    [Fact]
    public async Task Rr_alternates_wrr_honours_weights_and_sh_and_mh_keep_each_client_address_on_one_server()
    {
        using var files = new ScenarioFiles();
        await using var lan = await ForwardingLan.CreateAsync(output.WriteLine, clientSources: 8);
        var (rs1, rs2) = (lan.RealServers[0], lan.RealServers[1]);
        await Task.WhenAll(NameServer.StartAsync(rs1), NameServer.StartAsync(rs2));
        var daemon = await VipProxyDaemon.StartAsync(lan.Lb, files,
            VirtualServer(Rr, "rr", "", RealServer(rs1, NameServer.Port), RealServer(rs2, NameServer.Port)) +
            VirtualServer(Wrr, "wrr", "", RealServer(rs1, NameServer.Port, "weight 3"), RealServer(rs2, NameServer.Port, "weight 1")) +
            VirtualServer(Sh, "sh", "", RealServer(rs1, NameServer.Port), RealServer(rs2, NameServer.Port)) +
            VirtualServer(Mh, "mh", "", RealServer(rs1, NameServer.Port), RealServer(rs2, NameServer.Port)));
        var client = lan.ThreadIn(lan.Client);

        // rr: strictly alternating.
        var rr = new List<string>();
        for (int i = 0; i < 8; i++)
        {
            rr.Add(await NameClient.WhoAnswersAsync(client, ForwardingLan.VipEndpoint(Rr)));
        }

        output.WriteLine("rr:  " + string.Join(' ', rr));
        Assert.Equal(["rs1", "rs2"], rr.Distinct().Order());
        for (int i = 1; i < rr.Count; i++)
        {
            Assert.NotEqual(rr[i - 1], rr[i]);
        }

        // wrr 3:1: every cycle of four connections has three on rs1 and one on rs2.
        var wrr = new List<string>();
        for (int i = 0; i < 40; i++)
        {
            wrr.Add(await NameClient.WhoAnswersAsync(client, ForwardingLan.VipEndpoint(Wrr)));
        }

        output.WriteLine("wrr: " + string.Join(' ', wrr));
        foreach (var cycle in wrr.Chunk(4))
        {
            Assert.Equal(3, cycle.Count(n => n == "rs1"));
            Assert.Equal(1, cycle.Count(n => n == "rs2"));
        }

        // sh and mh: each of eight client addresses always lands on the same server; together they use both.
        foreach (int port in new[] { Sh, Mh })
        {
            var chosen = new Dictionary<IPAddress, string>();
            foreach (var source in lan.ClientSources)
            {
                var answers = new List<string>();
                for (int i = 0; i < 4; i++)
                {
                    answers.Add(await NameClient.WhoAnswersAsync(client, ForwardingLan.VipEndpoint(port), source));
                }

                Assert.Single(answers.Distinct());
                chosen[source] = answers[0];
            }

            output.WriteLine($"{port}: " + string.Join(", ", chosen.Select(c => $"{c.Key}->{c.Value}")));
            Assert.Equal(["rs1", "rs2"], chosen.Values.Distinct().Order());
        }

        // The daemon's own accounting agrees: counts per real server, and "rsN\n" (4 bytes) down per connection.
        var status = await daemon.StatusFromCliAsync();
        Assert.Equal("rr", status.VirtualServer(Rr).Scheduler);
        Assert.Equal("wrr", status.VirtualServer(Wrr).Scheduler);
        Assert.Equal("sh", status.VirtualServer(Sh).Scheduler);
        Assert.Equal("mh", status.VirtualServer(Mh).Scheduler);
        foreach (var host in new[] { rs1, rs2 })
        {
            var onRr = status.VirtualServer(Rr).RealServer(host);
            Assert.Equal(4, onRr.TotalConnections);
            Assert.Equal(16, onRr.BytesOut);
            Assert.Equal(0, onRr.BytesIn);
            Assert.Equal(0, onRr.FailedConnects);
        }

        Assert.Equal(30, status.VirtualServer(Wrr).RealServer(rs1).TotalConnections);
        Assert.Equal(10, status.VirtualServer(Wrr).RealServer(rs2).TotalConnections);
        Assert.Equal(32, status.VirtualServer(Sh).TotalConnections);
    }

    [Fact]
    public async Task Persistence_timeout_keeps_a_client_on_its_server_while_it_has_connections_and_expires_after()
    {
        using var files = new ScenarioFiles();
        await using var lan = await ForwardingLan.CreateAsync(output.WriteLine, clientSources: 2);
        var (rs1, rs2) = (lan.RealServers[0], lan.RealServers[1]);
        await Task.WhenAll(NameServer.StartAsync(rs1), NameServer.StartAsync(rs2));
        var daemon = await VipProxyDaemon.StartAsync(lan.Lb, files,
            VirtualServer(Persistent, "rr", "persistence_timeout 2", RealServer(rs1, NameServer.Port), RealServer(rs2, NameServer.Port)));
        var client = lan.ThreadIn(lan.Client);
        var vip = ForwardingLan.VipEndpoint(Persistent);
        var (first, second) = (lan.ClientSources[0], lan.ClientSources[1]);

        // rr would alternate; persistence keeps each client address where its first connection went.
        string home = await NameClient.WhoAnswersAsync(client, vip, first);
        for (int i = 0; i < 5; i++)
        {
            Assert.Equal(home, await NameClient.WhoAnswersAsync(client, vip, first));
        }

        string other = await NameClient.WhoAnswersAsync(client, vip, second);
        Assert.NotEqual(home, other);
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(other, await NameClient.WhoAnswersAsync(client, vip, second));
        }

        Assert.Equal(2, (await daemon.StatusFromCliAsync()).VirtualServer(Persistent).PersistenceEntries);

        // The first client keeps a connection open past the timeout: its entry lives on (LVS semantics), while the
        // second client's entry (no connection) expires timeout + at most one housekeeping period after its last close.
        using var held = await client.CreateTcpSocketAsync(first);
        await held.ConnectAsync(vip);
        var expired = await WaitForEntriesAsync(daemon, Persistent, 1, TimeSpan.FromSeconds(2 + 1 + 3));
        output.WriteLine($"the idle client's entry expired {expired.TotalMilliseconds:F0} ms after the held connection opened");
        await Task.Delay(TimeSpan.FromSeconds(1.2));
        Assert.Equal(1, (await daemon.StatusAsync()).VirtualServer(Persistent).PersistenceEntries);

        // rr went home, other; its next pick is home again. The second client, its entry gone, is rescheduled there;
        // the next new pick would be "other", yet the first client still goes home: its entry is alive.
        Assert.Equal(home, await NameClient.WhoAnswersAsync(client, vip, second));
        Assert.Equal(home, await NameClient.WhoAnswersAsync(client, vip, first));
        Assert.Equal(other, await NameClient.WhoAnswersAsync(client, vip, lan.Client.Address));

        held.Dispose();
        var gone = await WaitForEntriesAsync(daemon, Persistent, 0, TimeSpan.FromSeconds(2 + 1 + 3));
        output.WriteLine($"held connection closed -> all entries expired after {gone.TotalMilliseconds:F0} ms");
        Assert.True(gone >= TimeSpan.FromSeconds(1.5), $"entries went after {gone}, before persistence_timeout 2 s");
    }

    private static Task<TimeSpan> WaitForEntriesAsync(VipProxyDaemon daemon, int port, int entries, TimeSpan timeout) =>
        Eventually.TrueAsync(async () => (await daemon.StatusAsync()).VirtualServer(port).PersistenceEntries == entries, timeout,
            $"persistence entries to reach {entries}", TimeSpan.FromMilliseconds(100));
}
