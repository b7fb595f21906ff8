using System.Collections.Concurrent;
using System.Diagnostics;
using VipProxy.Lab;
using Xunit.Abstractions;
using static VipProxy.Scenario.Tests.Forwarding.ForwardingConfig;

namespace VipProxy.Scenario.Tests.Forwarding;

/// <summary>
/// A real server process is SIGKILLed while a client host opens new connections through the VIP without pause;
/// the forwarder redispatches the connects that hit the dead server and holds it down as suspect, the TCP_CHECK
/// marks it down, and after a restart it comes back and gets traffic again.
/// </summary>
[Collection(NetworkScenariosCollection.Name)]
[Trait("Category", "Root")]
public sealed class RealServerCrashScenario(ITestOutputHelper output)
{
    private const int Port = 8080;
    private const int Workers = 3;
    private const int MaxConnections = 900;
    private static readonly TimeSpan LoadDuration = TimeSpan.FromSeconds(11);
    private static readonly TimeSpan Pace = TimeSpan.FromMilliseconds(30);
    private static readonly TimeSpan KillAt = TimeSpan.FromSeconds(2.5);
    private static readonly TimeSpan RestartAt = TimeSpan.FromSeconds(7);

    // delay_loop 1, connect_timeout 1, retry 1, delay_before_retry 0.5: the issue's bound is
    // delay_loop × (retry + 1) + connect_timeout = 3 s. The margin covers process scheduling on a 2-core machine.
    private const string Checker = "TCP_CHECK {\n connect_timeout 1\n retry 1\n delay_before_retry 0.5\n }";
    private static readonly TimeSpan DetectionBound = TimeSpan.FromSeconds((1 * (1 + 1)) + 1);
    private static readonly TimeSpan Margin = TimeSpan.FromSeconds(1);

    [Fact]
    public async Task Killing_a_real_server_under_continuous_connects_fails_no_client_and_restarting_it_brings_it_back()
    {
        using var files = new ScenarioFiles();
        await using var lan = await ForwardingLan.CreateAsync(output.WriteLine);
        var (rs1, rs2) = (lan.RealServers[0], lan.RealServers[1]);
        var servers = await Task.WhenAll(NameServer.StartAsync(rs1), NameServer.StartAsync(rs2));
        var daemon = await VipProxyDaemon.StartAsync(lan.Lb, files,
            VirtualServer(Port, "rr", "delay_loop 1", RealServer(rs1, NameServer.Port, Checker), RealServer(rs2, NameServer.Port, Checker)));
        var client = lan.ThreadIn(lan.Client);
        var vip = ForwardingLan.VipEndpoint(Port);
        string rs1Endpoint = $"{rs1.Address}:{NameServer.Port}";

        // Workers take a slot per connection; the crash takes every slot, so it lands between connections: a
        // connection that is inside the server when it dies is lost whatever the balancer does, and is not a connect.
        using var slots = new SemaphoreSlim(Workers, Workers);
        using var stop = new CancellationTokenSource();
        var outcomes = new ConcurrentQueue<(TimeSpan Started, NameClient.Outcome Outcome)>();
        int started = 0;
        var clock = Stopwatch.StartNew();
        var load = Enumerable.Range(0, Workers).Select(_ => Task.Run(async () =>
        {
            while (clock.Elapsed < LoadDuration && !stop.IsCancellationRequested && Interlocked.Increment(ref started) <= MaxConnections)
            {
                await slots.WaitAsync(stop.Token);
                TimeSpan at = clock.Elapsed;
                try
                {
                    outcomes.Enqueue((at, await NameClient.TryAsync(client, vip, null, clock)));
                }
                finally
                {
                    slots.Release();
                }

                await Task.Delay(Pace, stop.Token);
            }
        })).ToArray();
        TimeSpan killedAt, statusDown, loggedDownAfter, statusDownAfter, restartedAt, statusUp;
        try
        {
            // Crash.
            await Task.Delay(KillAt);
            for (int i = 0; i < Workers; i++)
            {
                await slots.WaitAsync(stop.Token);
            }

            killedAt = clock.Elapsed;
            servers[0].Signal(UnixSignal.Kill);
            await servers[0].WaitForExitAsync(TimeSpan.FromSeconds(5));
            slots.Release(Workers);
            var downLine = SeenAtAsync(daemon, $"real_server {rs1Endpoint} of {vip} is now DOWN", clock);
            statusDown = await PollUntilAsync(daemon, up: false, rs1, clock);
            loggedDownAfter = await downLine - killedAt;
            statusDownAfter = statusDown - killedAt;

            // Restart.
            var untilRestart = RestartAt - clock.Elapsed;
            if (untilRestart > TimeSpan.Zero)
            {
                await Task.Delay(untilRestart);
            }

            await NameServer.StartAsync(rs1);
            restartedAt = clock.Elapsed;
            statusUp = await PollUntilAsync(daemon, up: true, rs1, clock);

            await Task.WhenAll(load);
        }
        finally
        {
            // On failure, the workers stop before the LAN goes; never longer than one connect deadline.
            await stop.CancelAsync();
            await Task.WhenAny(Task.WhenAll(load), Task.Delay(TimeSpan.FromSeconds(10)));
        }

        var all = outcomes.OrderBy(o => o.Started).ToList();
        var failures = all.Where(o => !o.Outcome.Succeeded).ToList();
        var connectionLines = daemon.ConnectionLines();
        string Explain((TimeSpan Started, NameClient.Outcome Outcome) failure) =>
            $"{failure.Started.TotalMilliseconds:F0} ms {failure.Outcome.Local}: {failure.Outcome.Error}; daemon: " +
            (connectionLines.FirstOrDefault(l => failure.Outcome.Local is { } local && l.Contains($" {local} -> ", StringComparison.Ordinal)) ?? "(no line)");
        var status = await daemon.StatusFromCliAsync();
        var service = status.VirtualServer(Port);
        int onRs1WhileDead = all.Count(o => o.Started > killedAt && o.Outcome.At < statusDown && o.Outcome.Name == "rs1");
        int onRs1AfterRestart = all.Count(o => o.Started > statusUp && o.Outcome.Name == "rs1");
        int onRs2 = all.Count(o => o.Outcome.Name == "rs2");
        output.WriteLine(
            $"{all.Count} connects in {clock.Elapsed.TotalSeconds:F1} s, {failures.Count} failed; killed rs1 at {killedAt.TotalMilliseconds:F0} ms; " +
            $"DOWN logged after {loggedDownAfter.TotalMilliseconds:F0} ms, in status after {statusDownAfter.TotalMilliseconds:F0} ms " +
            $"(bound {DetectionBound.TotalMilliseconds:F0} ms); restarted at {restartedAt.TotalMilliseconds:F0} ms, UP in status after " +
            $"{(statusUp - restartedAt).TotalMilliseconds:F0} ms; rs1 failed_connects {service.RealServer(rs1).FailedConnects} (redispatched), " +
            $"refused_connections {service.RefusedConnections}; after restart rs1 answered {onRs1AfterRestart}, rs2 answered {onRs2} in all");

        Assert.True(failures.Count == 0, $"{failures.Count} of {all.Count} client connects failed:\n" + string.Join('\n', failures.Select(Explain)));
        Assert.True(all.Count >= 300, $"only {all.Count} connects were made");
        Assert.True(loggedDownAfter <= DetectionBound + Margin, $"rs1 logged down {loggedDownAfter} after the kill");
        Assert.True(statusDownAfter <= DetectionBound + Margin, $"status reported rs1 down {statusDownAfter} after the kill");
        Assert.Equal(0, onRs1WhileDead);
        Assert.True(onRs1AfterRestart > 0, "no connection reached rs1 after it came back");
        Assert.True(service.RealServer(rs1).FailedConnects >= 1, "no connect ever hit the dead server: the scenario proved nothing");
        Assert.Equal(0, service.RefusedConnections);
        Assert.True(service.RealServer(rs1).Up);
        Assert.True(service.RealServer(rs2).Up);
        Assert.DoesNotContain(connectionLines, l => l.Contains("ConnectFailed", StringComparison.Ordinal) || l.Contains("NoRealServer", StringComparison.Ordinal));
    }

    /// <summary>Polls the control socket every 50 ms until the real server is reported up (or down); returns
    /// <paramref name="clock"/>'s time when it was seen.</summary>
    private static async Task<TimeSpan> PollUntilAsync(VipProxyDaemon daemon, bool up, LanHost realServer, Stopwatch clock)
    {
        await Eventually.ValueAsync(() => daemon.StatusAsync(), status => status.VirtualServer(Port).RealServer(realServer).Up == up,
            TimeSpan.FromSeconds(15), $"{realServer.Name} reported {(up ? "up" : "down")}", TimeSpan.FromMilliseconds(50));
        return clock.Elapsed;
    }

    /// <summary><paramref name="clock"/>'s time when the daemon prints a line containing <paramref name="text"/>.</summary>
    private static async Task<TimeSpan> SeenAtAsync(VipProxyDaemon daemon, string text, Stopwatch clock)
    {
        await daemon.Process.WaitForOutputAsync(text, TimeSpan.FromSeconds(15));
        return clock.Elapsed;
    }
}
