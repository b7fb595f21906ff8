using System.Diagnostics;
using System.Text.RegularExpressions;
using Xunit.Abstractions;
using static VipProxy.Scenario.Tests.Daemon.HotStandbyLan;

namespace VipProxy.Scenario.Tests.Monitoring;

/// <summary>
/// Issue 20's "monitoring that works on day one": the shipped alert rules and dashboard pass Prometheus's own
/// checker and unit tests, and name only metrics that a running node really exports (and the dashboard shows
/// every family the node exports), compared with a live scrape of both nodes of the hot-standby LAN.
/// </summary>
[Collection(NetworkScenariosCollection.Name)]
[Trait("Category", "Root")]
public sealed partial class MonitoringScenarios(ITestOutputHelper output)
{
    private static readonly string Rules = RepositoryFiles.Path("conf/monitoring/vipproxy-alerts.yml");
    private static readonly string RuleTests = RepositoryFiles.Path("conf/monitoring/vipproxy-alerts.test.yml");
    private static readonly string Dashboard = RepositoryFiles.Path("conf/monitoring/vipproxy-dashboard.json");

    [Fact]
    public async Task The_alert_rules_pass_promtool_check_and_every_alert_fires_in_its_unit_test()
    {
        string check = await PromtoolAsync("check", "rules", Rules);
        Assert.Contains("SUCCESS: 12 rules found", check, StringComparison.Ordinal);
        string test = await PromtoolAsync("test", "rules", RuleTests);
        Assert.Contains("SUCCESS", test, StringComparison.Ordinal);

        // Every alert of the rules file has at least one unit test case that expects it to fire.
        var alerts = AlertName().Matches(await File.ReadAllTextAsync(Rules)).Select(m => m.Groups[1].Value).ToHashSet(StringComparer.Ordinal);
        string tests = await File.ReadAllTextAsync(RuleTests);
        var fired = FiringCase().Matches(tests).Select(m => m.Groups[1].Value).ToHashSet(StringComparer.Ordinal);
        Assert.Equal(12, alerts.Count);
        Assert.Empty(alerts.Except(fired));
    }

    [Fact]
    public async Task Rules_and_dashboard_name_only_metrics_a_live_node_exports_and_the_dashboard_shows_them_all()
    {
        using var files = new ScenarioFiles();
        await using var lan = await StartAsync(output.WriteLine, files);

        // A few queries through the VIP, so the per-connection histograms have samples on the master.
        var client = lan.ThreadIn(lan.Client);
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < 4; i++)
        {
            Assert.True((await client.RunAsync(() => QueryOnce(clock))).Succeeded);
        }

        var exported = new HashSet<string>(StringComparer.Ordinal);
        foreach (var lb in new[] { lan.Lb1, lan.Lb2 })
        {
            // The check-duration histogram appears after the first probe; the checkers run every second here.
            string text = "";
            await Eventually.TrueAsync(async () =>
            {
                text = await lan.ScrapeMetricsAsync(lb);
                return text.Contains("vipproxy_check_duration_seconds_count", StringComparison.Ordinal);
            }, TimeSpan.FromSeconds(15), $"a health check probe recorded on {lb.Name}");
            foreach (Match type in TypeLine().Matches(text))
            {
                exported.Add(type.Groups[1].Value);
            }
        }

        output.WriteLine($"exported families: {string.Join(' ', exported.Order(StringComparer.Ordinal))}");

        // Dropped VRRP packets are exported per reason, so the family exists only once a packet was dropped;
        // a clean LAN drops none. Its name is asserted in the unit-test scrape (MetricsTests) instead.
        var mayBeAbsent = new HashSet<string>(StringComparer.Ordinal) { "vipproxy_vrrp_dropped_packets_total" };
        var rulesNames = ReferencedFamilies(await File.ReadAllTextAsync(Rules), exported);
        var dashboardNames = ReferencedFamilies(await File.ReadAllTextAsync(Dashboard), exported);
        AssertNone(rulesNames.Where(n => !exported.Contains(n) && !mayBeAbsent.Contains(n)), "the rules name metrics no node exports");
        AssertNone(dashboardNames.Where(n => !exported.Contains(n) && !mayBeAbsent.Contains(n)), "the dashboard names metrics no node exports");
        AssertNone(exported.Where(n => n.StartsWith("vipproxy_", StringComparison.Ordinal) && !dashboardNames.Contains(n)), "exported families the dashboard does not show");
        Assert.Contains("vipproxy_check_duration_seconds", rulesNames);
        Assert.Contains("vipproxy_config_last_reload_successful", rulesNames);
    }

    private static void AssertNone(IEnumerable<string> names, string what)
    {
        var list = names.Order(StringComparer.Ordinal).ToList();
        Assert.True(list.Count == 0, $"{what}: {string.Join(", ", list)}");
    }

    // Metric families named in a rules or dashboard file: histogram series (_bucket, _sum, _count) count as their
    // family when the node exports that family as a histogram.
    private static HashSet<string> ReferencedFamilies(string text, HashSet<string> exported)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (Match m in MetricName().Matches(text))
        {
            string name = m.Value;
            foreach (string suffix in new[] { "_bucket", "_sum", "_count" })
            {
                if (name.EndsWith(suffix, StringComparison.Ordinal) && exported.Contains(name[..^suffix.Length]))
                {
                    name = name[..^suffix.Length];
                }
            }

            names.Add(name);
        }

        return names;
    }

    private static async Task<string> PromtoolAsync(params string[] arguments)
    {
        var start = new ProcessStartInfo("promtool", arguments)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Path.GetDirectoryName(Rules)!,
        };
        using var process = Process.Start(start) ?? throw new InvalidOperationException("promtool did not start (install-deps.sh installs the prometheus package)");
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        await process.WaitForExitAsync(timeout.Token);
        string all = await stdout + await stderr;
        Assert.True(process.ExitCode == 0, $"promtool {string.Join(' ', arguments)} exited {process.ExitCode}:\n{all}");
        return all;
    }

    [GeneratedRegex(@"^\s*- alert: (\w+)", RegexOptions.Multiline)]
    private static partial Regex AlertName();

    // "alertname: X" followed (before the next alertname) by a non-empty exp_alerts list.
    [GeneratedRegex(@"alertname: (\w+)\s+exp_alerts:\s*\n\s+- exp_labels", RegexOptions.Multiline)]
    private static partial Regex FiringCase();

    [GeneratedRegex(@"^# TYPE (\S+) ", RegexOptions.Multiline)]
    private static partial Regex TypeLine();

    [GeneratedRegex(@"\bvipproxy_[a-z0-9_]+")]
    private static partial Regex MetricName();
}
