using System.Globalization;
using System.Text.RegularExpressions;
using VipProxy.Demo;
using Xunit.Abstractions;

namespace VipProxy.Scenario.Tests.Demo;

/// <summary>
/// <c>vipproxy demo</c> as a user runs it: the product binary from the root namespace, building and tearing down
/// its own LAN. Done-when 7 of issue #5: it runs to completion and leaves no namespace behind, and its timeline
/// shows the failover within its timers and the health check at work.
/// </summary>
[Collection(NetworkScenariosCollection.Name)]
[Trait("Category", "Root")]
public sealed partial class DemoScenario(ITestOutputHelper output)
{
    private static readonly TimeSpan DemoLimit = TimeSpan.FromMinutes(3);

    [Fact]
    public async Task Vipproxy_demo_runs_to_completion_shows_the_failover_within_its_timers_and_leaves_no_namespace()
    {
        await using var demo = DemoProcess.Start(output, "demo");
        int exitCode = await demo.WaitForExitAsync(DemoLimit);
        string timeline = demo.StandardOutput;

        Assert.True(exitCode == 0, $"vipproxy demo exited {exitCode}: {demo.StandardError}");
        Assert.Contains("lb1 MASTER holds VIP 198.18.0.100, lb2 BACKUP", timeline, StringComparison.Ordinal);
        Assert.Matches(@"answered by (rs1, rs2|rs2, rs1)", timeline);

        // The VIP moved to lb2 with a client-measured outage below Master_Down_Interval + 1 s.
        var failover = Outage().Match(timeline);
        Assert.True(failover.Success, "no 'lb2 holds VIP … (outage …)' line");
        var outage = TimeSpan.FromSeconds(double.Parse(failover.Groups["seconds"].Value, CultureInfo.InvariantCulture));
        var limit = DemoConfig.MasterDownInterval(DemoConfig.BackupPriority) + TimeSpan.FromSeconds(1);
        Assert.True(outage < limit, $"outage {outage} is not below {limit}");

        Assert.Contains("lb1 holds VIP 198.18.0.100 again", timeline, StringComparison.Ordinal);
        Assert.Matches(@"health check took rs1 out, [0-9.]+ s after the stop: 198\.18\.1\.11:8066 up=false, last_check ""[^""]+""", timeline);
        Assert.Contains("queries keep succeeding", timeline, StringComparison.Ordinal);
        Assert.Contains("demo finished: OK", timeline, StringComparison.Ordinal);
        AssertNothingLeft(timeline);
    }

    [Fact]
    public async Task Vipproxy_demo_interrupted_by_SIGINT_tears_everything_down_and_exits_130()
    {
        await using var demo = DemoProcess.Start(output, "demo");
        await demo.WaitForLineAsync("lb1 MASTER holds VIP", TimeSpan.FromMinutes(2));
        demo.Interrupt();
        int exitCode = await demo.WaitForExitAsync(TimeSpan.FromMinutes(1));

        Assert.Equal(130, exitCode);
        Assert.Contains("interrupted", demo.StandardOutput, StringComparison.Ordinal);
        AssertNothingLeft(demo.StandardOutput);
    }

    /// <summary>No namespace of the demo's prefix, and no directory of its files, exists any more.</summary>
    private static void AssertNothingLeft(string timeline)
    {
        var lan = LanPrefix().Match(timeline);
        Assert.True(lan.Success, "the demo did not name its LAN");
        string prefix = lan.Groups["prefix"].Value + "-";
        var left = Directory.Exists("/run/netns")
            ? Directory.EnumerateFiles("/run/netns").Select(Path.GetFileName).Where(n => n!.StartsWith(prefix, StringComparison.Ordinal)).ToList()
            : [];
        Assert.Empty(left);

        var files = FilesDirectory().Match(timeline);
        Assert.True(files.Success, "the demo did not name its files");
        Assert.False(Directory.Exists(files.Groups["directory"].Value), $"{files.Groups["directory"].Value} is left behind");
    }

    [GeneratedRegex(@"lb2 holds VIP 198\.18\.0\.100 \(outage (?<seconds>[0-9]+\.[0-9]+) s\)")]
    private static partial Regex Outage();

    [GeneratedRegex(@"LAN (?<prefix>vpt[0-9]+[a-z]{2}) is up")]
    private static partial Regex LanPrefix();

    [GeneratedRegex(@"files: (?<directory>/\S+)/lb1\.conf")]
    private static partial Regex FilesDirectory();
}
