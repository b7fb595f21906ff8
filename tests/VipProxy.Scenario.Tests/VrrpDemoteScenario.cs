using System.Diagnostics;
using System.Text.Json;
using VipProxy.Lab;
using Xunit.Abstractions;
using static VipProxy.Scenario.Tests.Vrrp;

namespace VipProxy.Scenario.Tests;

/// <summary>
/// <c>vipproxy vrrp demote|resume</c> between two real nodes in namespaces: the way to move the VIP for maintenance
/// without stopping the daemon. Demote makes the master send priority 0 (RFC 5798 §6.4.3) so the peer takes over
/// after Skew_Time; the demoted node stays backup (through a SIGHUP that restarts the instance, and a restart of the
/// process, from the state file) until resume lets it preempt back.
/// </summary>
[Collection(NetworkScenariosCollection.Name)]
[Trait("Category", "Root")]
public sealed class VrrpDemoteScenario(ITestOutputHelper output)
{
    private static readonly TimeSpan Startup = TimeSpan.FromSeconds(15);

    /// <summary>lb2 (priority 100), v2 advert_int 1: Skew_Time (256 − 100)/256 s; Master_Down_Interval 3 s + that.</summary>
    private static readonly TimeSpan Lb2Skew = TimeSpan.FromSeconds(156 / 256.0);

    [Fact]
    public async Task Demote_moves_the_VIP_to_the_peer_it_stays_there_across_SIGHUP_and_restart_and_resume_takes_it_back()
    {
        using var files = new ScenarioFiles();
        await using var lan = await Lan.CreateAsync(output.WriteLine, "lb1", "lb2");
        var (lb1, lb2) = (lan.Host("lb1"), lan.Host("lb2"));
        string Config(int priority) => $"global_defs {{\n state_file {files.PathOf("lb1-state.json")}\n}}\n" + Instance(lb1, priority);
        var node1 = StartVipProxy(lb1, files, Config(150));
        StartVipProxy(lb2, files, Instance(lb2, 100));
        await WaitForVipAsync(lb1, held: true, Startup);
        await WaitForVipAsync(lb2, held: false, Startup);
        await AssertVipStaysAsync(lb1, lb2, TimeSpan.FromSeconds(1.5));
        string socket = VipProxySocket(lb1, files);

        var clock = Stopwatch.StartNew();
        var demote = (await RunVipProxyAsync(lb1, "vrrp", "demote", "VI_1", "--socket", socket)).EnsureSuccess("vipproxy vrrp demote");
        TimeSpan answered = clock.Elapsed;
        await WaitForVipAsync(lb2, held: true, TimeSpan.FromSeconds(5));
        TimeSpan moved = clock.Elapsed;
        output.WriteLine($"vrrp demote: {demote.StandardOutput.Trim()}");
        output.WriteLine($"demote -> CLI answered after {answered.TotalMilliseconds:F0} ms, VIP on lb2 after {moved.TotalMilliseconds:F0} ms (Skew_Time {Lb2Skew.TotalMilliseconds:F0} ms)");
        Assert.True(moved - answered <= Lb2Skew + TimeSpan.FromSeconds(0.5), $"the VIP moved {moved - answered} after the demote was answered");
        await WaitForVipAsync(lb1, held: false, TimeSpan.FromSeconds(3));

        // Longer than lb1's Master_Down_Interval: with the higher priority and preempt it would take the VIP back.
        await AssertVipStaysAsync(lb2, lb1, TimeSpan.FromSeconds(5));
        using (var status = JsonDocument.Parse((await RunVipProxyAsync(lb1, "status", "--json", "--socket", socket)).EnsureSuccess("status").StandardOutput))
        {
            JsonElement instance = status.RootElement.GetProperty("vrrp_instances")[0];
            Assert.Equal(("BACKUP", true), (instance.GetProperty("state").GetString(), instance.GetProperty("demoted").GetBoolean()));
            Assert.Equal("VI_1", status.RootElement.GetProperty("operator_state").GetProperty("demoted_instances")[0].GetProperty("instance").GetString());
        }

        // A reload that changes the instance restarts it: the demotion is applied before it starts again.
        files.Write($"{lb1.Name}-vipproxy.conf", Config(160));
        node1.Signal(UnixSignal.Hup);
        await node1.WaitForOutputAsync("reload applied", TimeSpan.FromSeconds(10));
        await AssertVipStaysAsync(lb2, lb1, TimeSpan.FromSeconds(5));

        // So is a restart, from the state file.
        Assert.Equal(0, await node1.StopAsync(TimeSpan.FromSeconds(15)));
        node1 = StartVipProxy(lb1, files, Config(160));
        await node1.WaitForOutputAsync("1 demoted instance(s)", Startup);
        await node1.WaitForOutputAsync("started from", Startup);
        await AssertVipStaysAsync(lb2, lb1, TimeSpan.FromSeconds(5));

        clock.Restart();
        var resume = (await RunVipProxyAsync(lb1, "vrrp", "resume", "VI_1", "--socket", socket)).EnsureSuccess("vipproxy vrrp resume");
        output.WriteLine($"vrrp resume: {resume.StandardOutput.Trim()}");
        await WaitForVipAsync(lb1, held: true, TimeSpan.FromSeconds(10));
        output.WriteLine($"resume -> VIP back on lb1 after {clock.Elapsed.TotalMilliseconds:F0} ms");
        await WaitForVipAsync(lb2, held: false, TimeSpan.FromSeconds(3));

        var unknown = await RunVipProxyAsync(lb1, "vrrp", "demote", "VI_X", "--socket", socket);
        Assert.Equal(1, unknown.ExitCode);
        Assert.Contains("no vrrp_instance 'VI_X'; configured: VI_1", unknown.StandardError, StringComparison.Ordinal);
        await AssertVipStaysAsync(lb1, lb2, TimeSpan.FromSeconds(1.5));
    }
}
