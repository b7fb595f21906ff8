using System.Diagnostics;
using System.Globalization;
using VipProxy.Lab;
using VipProxy.Scenario.Tests.Forwarding;
using Xunit.Abstractions;
using static VipProxy.Scenario.Tests.Daemon.HotStandbyLan;

namespace VipProxy.Scenario.Tests.Daemon;

/// <summary>
/// Issue 5's "done when" 1–6: two <c>vipproxy run</c> nodes in front of two MariaDB servers, a MySqlConnector
/// client in the client host, and the failures an operator meets: a cut link, kill -9 and restart, a graceful
/// stop, a dead database and a node that cannot reach any database, and reloads under load. Every state is also
/// asserted through <c>vipproxy status --json</c> and the Prometheus endpoint. Timing bounds are the protocol's
/// deadlines (RFC 3768 Master_Down_Interval and Skew_Time, the checker's delay_loop/retry/connect_timeout) plus
/// the margin the issue gives.
/// </summary>
[Collection(NetworkScenariosCollection.Name)]
[Trait("Category", "Root")]
public sealed class HotStandbyScenarios(ITestOutputHelper output)
{
    private static readonly string Vip = Vrrp.Vip.ToString();

    [Fact]
    public async Task Cutting_the_masters_link_moves_the_VIP_to_the_backup_and_queries_resume_within_Master_Down_Interval_plus_1_s()
    {
        using var files = new ScenarioFiles();
        await using var lan = await StartAsync(output.WriteLine, files);
        var before1 = await StatusFromCliAsync(lan.Node1);
        var before2 = await StatusFromCliAsync(lan.Node2);
        Assert.Equal("MASTER", before1.Vrrp.State);
        Assert.Contains(before1.Vrrp.VipsHeld, v => v.StartsWith(Vip, StringComparison.Ordinal));
        Assert.Equal("BACKUP", before2.Vrrp.State);
        Assert.Empty(before2.Vrrp.VipsHeld);
        Assert.Equal(lan.Lb1.InterfaceOn(lan.Front).Address.ToString(), before2.Vrrp.MasterAddress);

        var clock = Stopwatch.StartNew();
        var load = lan.StartQueryLoad(4, clock, TimeSpan.FromSeconds(40));
        TimeSpan cutAt, vipOnLb2;
        try
        {
            await WaitForSuccessesAsync(load, TimeSpan.Zero, 8);
            cutAt = clock.Elapsed;
            await lan.Lb1.InterfaceOn(lan.Front).CutLinkAsync();
            await Vrrp.WaitForVipAsync(lan.Lb2, held: true, TimeSpan.FromSeconds(10));
            vipOnLb2 = clock.Elapsed;
            var firstAfter = await WaitForSuccessesAsync(load, cutAt, 1);
            await WaitForSuccessesAsync(load, firstAfter.Ended, 8);
        }
        finally
        {
            await load.StopAsync();
        }

        var all = load.Sorted();
        var first = all.First(o => o.Started > cutAt && o.Succeeded);
        var outage = first.Ended - cutAt;
        var failedLater = all.Where(o => o.Started >= first.Ended && !o.Succeeded).ToList();
        output.WriteLine($"{all.Count} sessions, {all.Count(o => !o.Succeeded)} failed around the cut; VIP on lb2 {(vipOnLb2 - cutAt).TotalMilliseconds:F0} ms after the cut; " +
            $"first successful new query {outage.TotalMilliseconds:F0} ms after the cut (bound {(MasterDownInterval + TimeSpan.FromSeconds(1)).TotalMilliseconds:F0} ms), served by server_id {first.ServerId}");
        Assert.True(outage < MasterDownInterval + TimeSpan.FromSeconds(1), $"outage {outage}");
        Assert.True(failedLater.Count == 0, "sessions failed after the takeover:\n" + string.Join('\n', failedLater));
        Assert.Contains(all.Where(o => o.Started > first.Ended), o => o.ServerId == 1);
        Assert.Contains(all.Where(o => o.Started > first.Ended), o => o.ServerId == 2);

        var after2 = await StatusFromCliAsync(lan.Node2);
        Assert.Equal("MASTER", after2.Vrrp.State);
        Assert.Contains(after2.Vrrp.VipsHeld, v => v.StartsWith(Vip, StringComparison.Ordinal));
        Assert.True(after2.Vrrp.Transitions > before2.Vrrp.Transitions);
        Assert.True(after2.Service(DataPort).RealServers.Sum(r => r.TotalConnections) >= 8);
        var after1 = await StatusFromCliAsync(lan.Node1);
        Assert.Equal("FAULT", after1.Vrrp.State);
        Assert.Empty(after1.Vrrp.VipsHeld);
        Assert.False(await Vrrp.HoldsVipAsync(lan.Lb1));

        var metrics = PrometheusText.Parse(await lan.ScrapeMetricsAsync(lan.Lb2));
        Assert.Contains(metrics, m => m.Name == "vipproxy_vrrp_state" && m.Labels.Contains("state=\"MASTER\"", StringComparison.Ordinal) && m.Value == 1);
        metrics = PrometheusText.Parse(await lan.ScrapeMetricsAsync(lan.Lb1));
        Assert.Contains(metrics, m => m.Name == "vipproxy_vrrp_state" && m.Labels.Contains("state=\"FAULT\"", StringComparison.Ordinal) && m.Value == 1);
    }

    [Fact]
    public async Task Kill_9_of_the_master_fails_over_and_its_restart_starts_without_the_stale_VIP_then_preempts_back()
    {
        using var files = new ScenarioFiles();
        await using var lan = await StartAsync(output.WriteLine, files);
        var client = lan.ThreadIn(lan.Client);
        var clock = Stopwatch.StartNew();
        Assert.True((await client.RunAsync(() => QueryOnce(clock))).Succeeded);

        var killedAt = clock.Elapsed;
        lan.Node1.Process.Signal(UnixSignal.Kill);
        await lan.Node1.Process.WaitForExitAsync(TimeSpan.FromSeconds(10));
        bool staleAfterKill = await Vrrp.HoldsVipAsync(lan.Lb1);
        await Vrrp.WaitForVipAsync(lan.Lb2, held: true, TimeSpan.FromSeconds(10));
        var takeover = clock.Elapsed - killedAt;
        var viaLb2 = await QueryUntilAnsweredAsync(client, clock, TimeSpan.FromSeconds(3));
        var status2 = await StatusFromCliAsync(lan.Node2);
        output.WriteLine($"kill -9: VIP left on lb1's interface {staleAfterKill}; lb2 holds it {takeover.TotalMilliseconds:F0} ms after the kill " +
            $"(Master_Down_Interval {MasterDownInterval.TotalMilliseconds:F0} ms); query via lb2: {viaLb2}");
        Assert.True(staleAfterKill, "the killed node removed its VIP: the restart check below proves nothing");
        Assert.True(takeover < MasterDownInterval + TimeSpan.FromSeconds(1), $"takeover {takeover}");
        Assert.True(viaLb2.Succeeded, viaLb2.Error);
        Assert.Equal("MASTER", status2.Vrrp.State);

        // Restart: by the time the daemon says it started, the stale VIP is gone and it is not master yet.
        var restartAt = clock.Elapsed;
        lan.Node1 = await Forwarding.VipProxyDaemon.StartAsync(lan.Lb1, files, lan.Config(lan.Lb1, Lb1Priority));
        var startedAfter = clock.Elapsed - restartAt;
        bool staleAtStart = await Vrrp.HoldsVipAsync(lan.Lb1);
        var restarted = await StatusFromCliAsync(lan.Node1);
        output.WriteLine($"restart: started after {startedAfter.TotalMilliseconds:F0} ms, state {restarted.Vrrp.State}, vips_held [{string.Join(' ', restarted.Vrrp.VipsHeld)}], VIP on lb1's interface {staleAtStart}");
        Assert.NotEqual("MASTER", restarted.Vrrp.State);
        Assert.Empty(restarted.Vrrp.VipsHeld);
        Assert.False(staleAtStart, "the restarted node kept the stale VIP on its interface");
        Assert.True(await Vrrp.HoldsVipAsync(lan.Lb2));

        // Preempt back (priority 100 over 90): exactly one master at the end.
        await Vrrp.WaitForVipAsync(lan.Lb1, held: true, MasterDownInterval + TimeSpan.FromSeconds(10));
        var back = clock.Elapsed - restartAt;
        await Vrrp.WaitForVipAsync(lan.Lb2, held: false, TimeSpan.FromSeconds(3));
        await Vrrp.AssertVipStaysAsync(lan.Lb1, lan.Lb2, TimeSpan.FromSeconds(2));
        var final1 = await StatusFromCliAsync(lan.Node1);
        var final2 = await StatusFromCliAsync(lan.Node2);
        output.WriteLine($"preempted back {back.TotalMilliseconds:F0} ms after the restart; lb1 {final1.Vrrp.State}, lb2 {final2.Vrrp.State}");
        Assert.Equal("MASTER", final1.Vrrp.State);
        Assert.Equal("BACKUP", final2.Vrrp.State);
        Assert.Empty(final2.Vrrp.VipsHeld);
        Assert.Equal(lan.Lb1.InterfaceOn(lan.Front).Address.ToString(), final2.Vrrp.MasterAddress);
        var viaLb1 = await client.RunAsync(() => QueryOnce(clock));
        Assert.True(viaLb1.Succeeded, viaLb1.Error);
    }

    // The default, --handover immediate. What this does not assert, on purpose: that streams established through
    // the stopping master finish. Once the backup takes the VIP and announces it by gratuitous ARP, the clients'
    // packets for those streams reach the backup, whose kernel has no such connection and resets them (seen with
    // tcpdump: the RSTs come from lb2's MAC ~0.7 s after SIGTERM). "Hand over within Skew_Time" and "drain
    // established connections" cannot both hold on one L2 segment; --handover after-drain (next test) keeps the
    // connections and hands over once they have ended.
    [Fact]
    public async Task SIGTERM_with_handover_after_drain_keeps_serving_until_its_streams_end_then_hands_over_within_Skew_Time()
    {
        using var files = new ScenarioFiles();
        await using var lan = await StartAsync(output.WriteLine, files, ["--handover", "after-drain", "--drain-timeout", "20"]);
        await lan.StartEchoServersAsync();
        var client = lan.ThreadIn(lan.Client);
        const int Streams = 4;
        var streams = await OpenStreamsThroughLb1Async(lan, client, Streams, firstSeed: 200);
        await Task.Delay(TimeSpan.FromSeconds(0.7));
        var clock = Stopwatch.StartNew();
        lan.Node1.Process.Signal(UnixSignal.Term);

        // While its streams drain, the stopping master still holds the VIP and serves new clients.
        await lan.Node1.Process.WaitForOutputAsync("stopping (handover AfterDrain)", TimeSpan.FromSeconds(5));
        var during = await client.RunAsync(() => QueryOnce(clock));
        bool heldDuring = await Vrrp.HoldsVipAsync(lan.Lb1);

        var outcomes = await Task.WhenAll(streams);
        var streamsDone = clock.Elapsed;
        await Vrrp.WaitForVipAsync(lan.Lb2, held: true, TimeSpan.FromSeconds(10));
        var handover = clock.Elapsed;
        int exit = await lan.Node1.Process.WaitForExitAsync(TimeSpan.FromSeconds(40));
        var waitedLine = lan.Node1.Process.OutputLines.FirstOrDefault(l => l.Contains("handover after drain", StringComparison.Ordinal));
        output.WriteLine($"query during the drain: {(during.Succeeded ? "ok" : during.Error)} (VIP still on lb1: {heldDuring}); streams done {streamsDone.TotalMilliseconds:F0} ms after SIGTERM; " +
            $"VIP on lb2 {handover.TotalMilliseconds:F0} ms after SIGTERM, {(handover - streamsDone).TotalMilliseconds:F0} ms after the streams ended " +
            $"(Skew_Time {SkewTime.TotalMilliseconds:F0} ms + 500 ms + 500 ms for the last close to reach lb1 and its 50 ms poll); exit {exit}; '{waitedLine}'");
        foreach (var outcome in outcomes)
        {
            output.WriteLine($"stream {outcome.Local}: sent {outcome.Sent}, echoed {outcome.Received}, checksums {(outcome.ChecksumsMatch ? "equal" : "differ")}, error {outcome.Error ?? "none"}");
        }

        Assert.True(during.Succeeded, during.Error);
        Assert.True(heldDuring, "lb1 gave up the VIP before its streams ended");
        Assert.All(outcomes, o => Assert.True(o.Clean, $"stream {o.Local} was not drained cleanly: {o.Error}, {o.Sent} sent, {o.Received} echoed"));
        Assert.True(handover - streamsDone < SkewTime + TimeSpan.FromSeconds(1), $"handover {(handover - streamsDone).TotalMilliseconds:F0} ms after the streams ended");
        Assert.Equal(0, exit);
        Assert.NotNull(waitedLine);
        Assert.Contains("0 of the connections open at SIGTERM still open", waitedLine, StringComparison.Ordinal);
        var status2 = await StatusFromCliAsync(lan.Node2);
        Assert.Equal("MASTER", status2.Vrrp.State);
        var after = await client.RunAsync(() => QueryOnce(clock));
        Assert.True(after.Succeeded, after.Error);
    }

    [Fact]
    public async Task SIGTERM_on_the_master_hands_over_within_Skew_Time_and_exits_0()
    {
        using var files = new ScenarioFiles();
        await using var lan = await StartAsync(output.WriteLine, files);
        await lan.StartEchoServersAsync();
        var client = lan.ThreadIn(lan.Client);
        const int Streams = 4;
        var streams = await OpenStreamsThroughLb1Async(lan, client, Streams, firstSeed: 100);
        // Diagnostics: every RST the client host sees on the echo port, with the sender's MAC.
        var resets = lan.Client.Start("tcpdump", "-l", "-nn", "-e", "-i", lan.Client.Interfaces[0].Name,
            $"tcp port {EchoPort} and tcp[tcpflags] & tcp-rst != 0");
        await resets.WaitForOutputAsync("listening on", TimeSpan.FromSeconds(10));
        await Task.Delay(TimeSpan.FromSeconds(0.7));
        var clock = Stopwatch.StartNew();
        lan.Node1.Process.Signal(UnixSignal.Term);
        output.WriteLine($"SIGTERM sent at {DateTime.Now.ToString("HH:mm:ss.fff", CultureInfo.InvariantCulture)} (compare with the daemons' log stamps)");
        await Vrrp.WaitForVipAsync(lan.Lb2, held: true, TimeSpan.FromSeconds(5));
        var handover = clock.Elapsed;
        var outcomes = await Task.WhenAll(streams);
        var streamsDone = clock.Elapsed;
        int exit = await lan.Node1.Process.WaitForExitAsync(TimeSpan.FromSeconds(40));
        var exited = clock.Elapsed;
        var drainedLine = lan.Node1.Process.OutputLines.FirstOrDefault(l => l.Contains("connections drained", StringComparison.Ordinal));
        output.WriteLine($"SIGTERM -> VIP on lb2 after {handover.TotalMilliseconds:F0} ms (Skew_Time {SkewTime.TotalMilliseconds:F0} ms + 500 ms); " +
            $"streams done after {streamsDone.TotalMilliseconds:F0} ms; exit {exit} after {exited.TotalMilliseconds:F0} ms; '{drainedLine}'");
        foreach (var outcome in outcomes)
        {
            output.WriteLine($"stream {outcome.Local}: sent {outcome.Sent}, echoed {outcome.Received}, checksums {(outcome.ChecksumsMatch ? "equal" : "differ")}, error {outcome.Error ?? "none"}");
        }

        // Every verdict at once, so that a failure reports all of them.
        var broken = new List<string>();
        if (handover > SkewTime + TimeSpan.FromSeconds(0.5))
        {
            broken.Add($"handover took {handover.TotalMilliseconds:F0} ms, over Skew_Time + 500 ms");
        }

        int cut = outcomes.Count(o => !o.Clean);
        if (cut > 0)
        {
            await resets.StopAsync();
            output.WriteLine($"{cut} of {Streams} streams through the stopping master were reset once the VIP moved (expected; see above)");
        }

        if (exit != 0)
        {
            broken.Add($"exit code {exit}");
        }

        Assert.True(broken.Count == 0, string.Join('\n', broken));
        Assert.False(await Vrrp.HoldsVipAsync(lan.Lb1));
        var status2 = await StatusFromCliAsync(lan.Node2);
        Assert.Equal("MASTER", status2.Vrrp.State);
        var after = await lan.ThreadIn(lan.Client).RunAsync(() => QueryOnce(clock));
        Assert.True(after.Succeeded, after.Error);
    }

    [Fact]
    public async Task A_stopped_MariaDB_is_taken_out_without_failed_queries_and_a_master_that_reaches_no_real_server_faults_to_the_backup()
    {
        using var files = new ScenarioFiles();
        await using var lan = await StartAsync(output.WriteLine, files);
        const int Workers = 3;
        using var gate = new SemaphoreSlim(Workers, Workers);
        var clock = Stopwatch.StartNew();
        var load = lan.StartQueryLoad(Workers, clock, TimeSpan.FromSeconds(60), gate);
        TimeSpan stopBegun, stopped, downOn1, downOn2, blackholedAt, quorumLost, vipOnLb2;
        QueryOutcome firstViaLb2;
        try
        {
            // 1. MariaDB on rs1 shuts down between sessions (a session inside the server when it dies is lost whatever the LB does).
            await WaitForSuccessesAsync(load, TimeSpan.Zero, 6);
            for (int i = 0; i < Workers; i++)
            {
                await gate.WaitAsync();
            }

            stopBegun = clock.Elapsed;
            await lan.Db1.StopAsync();
            stopped = clock.Elapsed;
            gate.Release(Workers);
            await Task.WhenAll(
                EventuallyAsync(lan.Node1, s => !s.Service(DataPort).RealServer(lan.Rs1Back).Up, "lb1: rs1 down", TimeSpan.FromSeconds(15)),
                EventuallyAsync(lan.Node2, s => !s.Service(DataPort).RealServer(lan.Rs1Back).Up, "lb2: rs1 down", TimeSpan.FromSeconds(15)));
            downOn1 = downOn2 = clock.Elapsed - stopped; // both seen by then
            await WaitForSuccessesAsync(load, clock.Elapsed, 8);
            var rs1Down = await StatusFromCliAsync(lan.Node1);
            var rs1Status = rs1Down.Service(DataPort).RealServer(lan.Rs1Back);
            output.WriteLine($"rs1 MariaDB shutdown took {(stopped - stopBegun).TotalMilliseconds:F0} ms; reported down on both nodes {downOn1.TotalMilliseconds:F0} ms after it exited " +
                $"(bound {CheckDetectionBound.TotalMilliseconds:F0} ms + 1 s); last_check '{rs1Status.LastCheck}'");
            Assert.True(downOn2 <= CheckDetectionBound + TimeSpan.FromSeconds(1), $"rs1 reported down {downOn2} after it stopped");
            Assert.False(rs1Status.Up);
            Assert.False(string.IsNullOrEmpty(rs1Status.LastCheck));
            Assert.True(rs1Down.Service(DataPort).RealServer(lan.Rs2Back).Up);
            Assert.True(rs1Down.Service(DataPort).QuorumUp);
            Assert.Equal("MASTER", rs1Down.Vrrp.State);
            var failures = load.Sorted().Where(o => !o.Succeeded).ToList();
            Assert.True(failures.Count == 0, "queries failed while rs1 was taken out:\n" + string.Join('\n', failures));
            var metrics = PrometheusText.Parse(await lan.ScrapeMetricsAsync(lan.Lb1));
            Assert.Contains(metrics, m => m.Name == "vipproxy_real_server_up" && m.Labels.Contains($"real_server=\"{lan.Rs1Back}:{DataPort}\"", StringComparison.Ordinal) && m.Value == 0);
            Assert.Contains(metrics, m => m.Name == "vipproxy_real_server_up" && m.Labels.Contains($"real_server=\"{lan.Rs2Back}:{DataPort}\"", StringComparison.Ordinal) && m.Value == 1);

            // Back up on both nodes before the next step, so that lb2 reaches both of them.
            await lan.Db1.StartAgainAsync();
            await Task.WhenAll(
                EventuallyAsync(lan.Node1, s => s.Service(DataPort).RealServer(lan.Rs1Back).Up, "lb1: rs1 up", TimeSpan.FromSeconds(15)),
                EventuallyAsync(lan.Node2, s => s.Service(DataPort).RealServer(lan.Rs1Back).Up, "lb2: rs1 up", TimeSpan.FromSeconds(15)));

            // 2. lb1 alone loses every real server: a blackhole route in lb1's namespace only.
            blackholedAt = clock.Elapsed;
            foreach (var address in new[] { lan.Rs1Back, lan.Rs2Back })
            {
                (await lan.Lb1.RunAsync("ip", "route", "add", "blackhole", $"{address}/32")).EnsureSuccess("blackhole route on lb1");
            }

            var quorumWait = EventuallyAsync(lan.Node1, s => !s.Service(DataPort).QuorumUp, "lb1: quorum lost", TimeSpan.FromSeconds(15));
            await Vrrp.WaitForVipAsync(lan.Lb2, held: true, TimeSpan.FromSeconds(20));
            vipOnLb2 = clock.Elapsed - blackholedAt;
            quorumLost = await quorumWait;
            firstViaLb2 = await WaitForSuccessesAsync(load, clock.Elapsed, 1);
            await WaitForSuccessesAsync(load, firstViaLb2.Ended, 8);
        }
        finally
        {
            await load.StopAsync();
        }

        var afterMove = load.Sorted().Where(o => o.Started >= firstViaLb2.Ended).ToList();
        output.WriteLine($"blackholed rs1+rs2 on lb1: lb1 quorum lost (seen) after {quorumLost.TotalMilliseconds:F0} ms, VIP on lb2 after {vipOnLb2.TotalMilliseconds:F0} ms " +
            $"(bound {(CheckDetectionBound + MasterDownInterval).TotalMilliseconds:F0} ms + 1 s); {afterMove.Count} sessions through lb2 afterwards, " +
            $"server ids {string.Join(' ', afterMove.Select(o => o.ServerId).Distinct().Order())}");
        Assert.True(vipOnLb2 <= CheckDetectionBound + MasterDownInterval + TimeSpan.FromSeconds(1), $"VIP reached lb2 {vipOnLb2} after the blackhole");
        Assert.True(afterMove.All(o => o.Succeeded), "sessions failed through lb2:\n" + string.Join('\n', afterMove.Where(o => !o.Succeeded)));
        Assert.Contains(afterMove, o => o.ServerId == 1);
        Assert.Contains(afterMove, o => o.ServerId == 2);

        var lb1 = await StatusFromCliAsync(lan.Node1);
        Assert.Equal("FAULT", lb1.Vrrp.State);
        Assert.Empty(lb1.Vrrp.VipsHeld);
        Assert.False(lb1.Service(DataPort).QuorumUp);
        Assert.All(lb1.Service(DataPort).RealServers, r => Assert.False(r.Up));
        Assert.False(await Vrrp.HoldsVipAsync(lan.Lb1));
        var lb2 = await StatusFromCliAsync(lan.Node2);
        Assert.Equal("MASTER", lb2.Vrrp.State);
        Assert.True(lb2.Service(DataPort).QuorumUp);
        Assert.All(lb2.Service(DataPort).RealServers, r => Assert.True(r.Up));

        var lb1Metrics = PrometheusText.Parse(await lan.ScrapeMetricsAsync(lan.Lb1));
        Assert.Contains(lb1Metrics, m => m.Name == "vipproxy_vrrp_state" && m.Labels.Contains("state=\"FAULT\"", StringComparison.Ordinal) && m.Value == 1);
        Assert.Contains(lb1Metrics, m => m.Name == "vipproxy_real_server_up" && m.Value == 0);
        var lb2Text = await lan.ScrapeMetricsAsync(lan.Lb2);
        var lb2Metrics = PrometheusText.Parse(lb2Text);
        Assert.Contains(lb2Metrics, m => m.Name == "vipproxy_vrrp_state" && m.Labels.Contains("state=\"MASTER\"", StringComparison.Ordinal) && m.Value == 1);
        Assert.Equal(2, lb2Metrics.Count(m => m.Name == "vipproxy_real_server_up" && m.Labels.Contains($":{DataPort}\"", StringComparison.Ordinal) && m.Value == 1));
        double forwarded = lb2Metrics.Where(m => m.Name == "vipproxy_real_server_connections_total" && m.Labels.Contains($":{DataPort}\"", StringComparison.Ordinal)).Sum(m => m.Value);
        Assert.True(forwarded >= afterMove.Count, $"vipproxy_real_server_connections_total {forwarded} < {afterMove.Count} sessions");
        Assert.Contains("# TYPE vipproxy_connection_duration_seconds histogram", lb2Text, StringComparison.Ordinal);
        var count = lb2Metrics.Where(m => m.Name == "vipproxy_connection_duration_seconds_count").Sum(m => m.Value);
        var infBucket = lb2Metrics.Where(m => m.Name == "vipproxy_connection_duration_seconds_bucket" && m.Labels.Contains("le=\"+Inf\"", StringComparison.Ordinal)).Sum(m => m.Value);
        Assert.True(count >= afterMove.Count, $"connection duration histogram counted {count}");
        Assert.Equal(count, infBucket);
        output.WriteLine($"lb2 metrics: {lb2Metrics.Count} samples, real_server_connections_total {forwarded}, connection_duration count {count}");
    }

    [Fact]
    public async Task SIGHUP_changes_a_weight_under_50_streams_without_cutting_a_byte_and_a_broken_file_keeps_the_old_config()
    {
        using var files = new ScenarioFiles();
        await using var lan = await StartAsync(output.WriteLine, files);
        await lan.StartEchoServersAsync();
        var client = lan.ThreadIn(lan.Client);
        const int Streams = 50, Chunks = 40, ChunkSize = 8 * 1024;
        var streams = new List<Task<StreamOutcome>>();
        for (int i = 0; i < Streams; i++)
        {
            streams.Add(await lan.OpenStreamAsync(client, seed: 500 + i, Chunks, ChunkSize, TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(40)));
        }

        // A connect completes in the kernel's accept queue; the daemon then accepts and connects onwards.
        await EventuallyAsync(lan.Node1, s => s.Service(EchoPort).RealServers.Sum(r => r.ActiveConnections) == Streams, "50 streams through lb1", TimeSpan.FromSeconds(10));
        var before1 = await StatusFromCliAsync(lan.Node1);
        var before2 = await StatusFromCliAsync(lan.Node2);
        Assert.Equal(Streams, before1.Service(EchoPort).RealServers.Sum(r => r.ActiveConnections));
        Assert.Equal(1, before1.Service(EchoPort).RealServer(lan.Rs2Back).Weight);
        Assert.Null(before1.LastReload);

        // 1. A changed weight.
        await Task.Delay(TimeSpan.FromSeconds(1));
        lan.RewriteConfig(lan.Lb1, lan.Config(lan.Lb1, Lb1Priority, rs2EchoWeight: 3));
        lan.Node1.Process.Signal(UnixSignal.Hup);
        await EventuallyAsync(lan.Node1, s => s.LastReload is { Applied: true }, "reload applied", TimeSpan.FromSeconds(10));
        var reloaded = await StatusFromCliAsync(lan.Node1);
        Assert.Equal(3, reloaded.Service(EchoPort).RealServer(lan.Rs2Back).Weight);
        Assert.Equal(1, reloaded.Service(EchoPort).RealServer(lan.Rs1Back).Weight);
        Assert.Empty(reloaded.LastReload!.Errors);
        Assert.Equal(Streams, reloaded.Service(EchoPort).RealServers.Sum(r => r.ActiveConnections));
        await Vrrp.AssertVipStaysAsync(lan.Lb1, lan.Lb2, TimeSpan.FromSeconds(1.5));
        var outcomes = await Task.WhenAll(streams);
        long bytes = outcomes.Sum(o => o.Received);
        var cut = outcomes.Where(o => !o.Clean).ToList();
        var after1 = await StatusFromCliAsync(lan.Node1);
        var after2 = await StatusFromCliAsync(lan.Node2);
        output.WriteLine($"reload under {Streams} streams: {cut.Count} cut, {bytes} of {outcomes.Sum(o => o.Sent)} bytes echoed with equal SHA-256; " +
            $"transitions lb1 {before1.Vrrp.Transitions} -> {after1.Vrrp.Transitions}, lb2 {before2.Vrrp.Transitions} -> {after2.Vrrp.Transitions}; rs2 weight {after1.Service(EchoPort).RealServer(lan.Rs2Back).Weight}");
        Assert.True(cut.Count == 0, "streams cut or corrupted by the reload:\n" + string.Join('\n', cut));
        Assert.Equal((long)Streams * Chunks * ChunkSize, bytes);
        Assert.Equal(before1.Vrrp.Transitions, after1.Vrrp.Transitions);
        Assert.Equal(before2.Vrrp.Transitions, after2.Vrrp.Transitions);
        Assert.Equal("MASTER", after1.Vrrp.State);
        Assert.Contains(lan.Node1.Process.OutputLines, l => l.Contains("reload applied", StringComparison.Ordinal));

        // New connections follow the new weight: 3 of every 4 to rs2.
        for (int i = 0; i < 8; i++)
        {
            var echo = await (await lan.OpenStreamAsync(client, seed: 900 + i, 1, 16, TimeSpan.Zero, TimeSpan.FromSeconds(5)));
            Assert.True(echo.Clean, echo.ToString());
        }

        var weighted = await StatusFromCliAsync(lan.Node1);
        long toRs1 = weighted.Service(EchoPort).RealServer(lan.Rs1Back).TotalConnections - after1.Service(EchoPort).RealServer(lan.Rs1Back).TotalConnections;
        long toRs2 = weighted.Service(EchoPort).RealServer(lan.Rs2Back).TotalConnections - after1.Service(EchoPort).RealServer(lan.Rs2Back).TotalConnections;
        output.WriteLine($"8 new connections after the reload: rs1 {toRs1}, rs2 {toRs2}");
        Assert.Equal(2, toRs1);
        Assert.Equal(6, toRs2);

        // 2. A broken file: a misspelled keyword.
        string broken = lan.Config(lan.Lb1, Lb1Priority, rs2EchoWeight: 5).Replace("lb_algo rr", "lb_algoo rr", StringComparison.Ordinal);
        lan.RewriteConfig(lan.Lb1, broken);
        lan.Node1.Process.Signal(UnixSignal.Hup);
        await EventuallyAsync(lan.Node1, s => s.LastReload is { Applied: false }, "reload refused", TimeSpan.FromSeconds(10));
        var refused = await StatusFromCliAsync(lan.Node1);
        output.WriteLine($"broken reload: applied {refused.LastReload!.Applied}, errors: {string.Join(" | ", refused.LastReload.Errors)}");
        Assert.Contains(refused.LastReload.Errors, e => e.Contains("lb_algoo", StringComparison.Ordinal));
        Assert.Equal(3, refused.Service(EchoPort).RealServer(lan.Rs2Back).Weight);
        Assert.Equal("MASTER", refused.Vrrp.State);
        Assert.Equal(before1.Vrrp.Transitions, refused.Vrrp.Transitions);
        var log = lan.Node1.Process.OutputLines;
        Assert.Contains(log, l => l.Contains("reload refused", StringComparison.Ordinal));
        Assert.Contains(log, l => l.Contains("lb_algoo", StringComparison.Ordinal));
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < 4; i++)
        {
            var query = await client.RunAsync(() => QueryOnce(clock));
            Assert.True(query.Succeeded, query.Error);
        }

        Assert.True(await Vrrp.HoldsVipAsync(lan.Lb1));
    }

    /// <summary>Waits (up to 20 s) until <paramref name="count"/> sessions started after <paramref name="after"/> succeeded; returns the first.</summary>
    private static async Task<QueryOutcome> WaitForSuccessesAsync(QueryLoad load, TimeSpan after, int count)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var succeeded = load.Sorted().Where(o => o.Started > after && o.Succeeded).ToList();
            if (succeeded.Count >= count)
            {
                return succeeded[0];
            }

            if (clock.Elapsed > TimeSpan.FromSeconds(20) || load.Tasks.All(t => t.IsCompleted))
            {
                throw new TimeoutException($"only {succeeded.Count} of {count} sessions after {after.TotalMilliseconds.ToString("F0", CultureInfo.InvariantCulture)} ms succeeded; " +
                    $"last: {string.Join("; ", load.Sorted().TakeLast(5))}");
            }

            await Task.Delay(50);
        }
    }

    /// <summary>Opens <paramref name="count"/> echo streams of 30 × 16 KiB, one chunk every 100 ms (about 3 s each),
    /// and waits until lb1 relays all of them.</summary>
    private static async Task<List<Task<StreamOutcome>>> OpenStreamsThroughLb1Async(HotStandbyLan lan, NamespaceThread client, int count, int firstSeed)
    {
        var streams = new List<Task<StreamOutcome>>();
        for (int i = 0; i < count; i++)
        {
            streams.Add(await lan.OpenStreamAsync(client, seed: firstSeed + i, chunks: 30, chunkSize: 16 * 1024, TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(25)));
        }

        await EventuallyAsync(lan.Node1, s => s.Service(EchoPort).RealServers.Sum(r => r.ActiveConnections) == count, "streams through lb1", TimeSpan.FromSeconds(5));
        return streams;
    }
}
