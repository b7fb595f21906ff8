using System.Globalization;
using System.Text;

namespace VipProxy.Bench.Results;

/// <summary>
/// The human-readable report: run header (commit, machine, tools), one table row per figure with every
/// contender's median (min–max) and VipProxy's ratios, the issue's targets, and the failures with their logs.
/// </summary>
internal static class MarkdownWriter
{
    public static string Render(BenchResults results, string? chartFileName)
    {
        ArgumentNullException.ThrowIfNull(results);
        var info = results.Info;
        var text = new StringBuilder();
        text.AppendLine("# VipProxy benchmark").AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture,
            $"- **Commit** `{info.Commit}`{(info.SourceDirty ? " (src/ had uncommitted changes)" : "")}");
        text.AppendLine(CultureInfo.InvariantCulture,
            $"- **Run** {info.StartedUtc:yyyy-MM-dd HH:mm:ss} UTC, {Duration(info.FinishedUtc - info.StartedUtc)}; " +
            $"{info.Mode} mode, {info.Rounds} interleaved round{(info.Rounds == 1 ? "" : "s")}, {info.DurationSeconds} s per load run, " +
            $"{info.IdleConnections:N0} idle connections; `{info.CommandLine}`");
        if (!info.Complete)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"- **INCOMPLETE**: {info.AbortReason ?? "interrupted"} — figures so far only");
        }

        var machine = info.Machine;
        text.AppendLine(CultureInfo.InvariantCulture,
            $"- **Machine** {Get(machine, "cpu")}, {Get(machine, "cpus")} CPUs, {Get(machine, "memory")}, " +
            $"{Get(machine, "os")}, kernel {Get(machine, "kernel")}, fd limit {Get(machine, "open_files_limit")}");
        text.AppendLine(CultureInfo.InvariantCulture,
            $"- **Tools** {Get(machine, "haproxy")}; {Get(machine, "keepalived")}; {Get(machine, "nginx")}; " +
            $"{Get(machine, "mariadb")}; {Get(machine, "wrk")}; {Get(machine, "iperf3")}; {Get(machine, "sysbench")}; " +
            $"{Get(machine, "dotnet")}");
        text.AppendLine(CultureInfo.InvariantCulture, $"- **vipproxy** {Get(machine, "vipproxy_binary")}");
        text.AppendLine();
        text.AppendLine("Client, LB and real server are network namespaces on one bridge, sharing the machine's CPUs. " +
                        "Each cell is the median over the rounds with (min–max); ↑ higher is better, ↓ lower is better. " +
                        "Ratios are median(VipProxy) / median(other), so read them with the arrow.");
        text.AppendLine();

        RenderTable(results, text);
        RenderTargets(results, text);
        if (chartFileName is not null)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"![VipProxy relative to the baselines]({chartFileName})").AppendLine();
        }

        RenderFailures(results, text);
        RenderWorkloads(results, text);
        if (info.Notes.Count > 0)
        {
            text.AppendLine("## Notes").AppendLine();
            foreach (var note in info.Notes)
            {
                text.AppendLine(CultureInfo.InvariantCulture, $"- {note}");
            }

            text.AppendLine();
        }

        return text.ToString();
    }

    private static void RenderTable(BenchResults results, StringBuilder text)
    {
        var contenders = results.Contenders;
        var baselines = BenchResults.Baselines.Where(b => contenders.Any(c => c.Name == b)).ToList();
        var hasSubject = contenders.Any(c => c.Name == BenchResults.Subject);
        text.Append("| Workload | Figure |");
        foreach (var contender in contenders)
        {
            text.Append(CultureInfo.InvariantCulture, $" {contender.Label} |");
        }

        if (hasSubject)
        {
            foreach (var baseline in baselines)
            {
                text.Append(CultureInfo.InvariantCulture, $" VipProxy / {Label(results, baseline)} |");
            }
        }

        text.AppendLine();
        text.Append("|---|---|");
        text.Append(string.Concat(Enumerable.Repeat("--:|", contenders.Count + (hasSubject ? baselines.Count : 0))));
        text.AppendLine();

        foreach (var workload in results.Workloads)
        {
            foreach (var metric in workload.Metrics)
            {
                text.Append(CultureInfo.InvariantCulture,
                    $"| {workload.Title} | {metric.Label} ({metric.Unit}) {(metric.HigherIsBetter ? "↑" : "↓")} |");
                foreach (var contender in contenders)
                {
                    text.Append(CultureInfo.InvariantCulture, $" {Cell(results, workload, metric, contender.Name)} |");
                }

                if (hasSubject)
                {
                    foreach (var baseline in baselines)
                    {
                        text.Append(CultureInfo.InvariantCulture,
                            $" {NumberFormat.Ratio(results.Ratio(workload.Name, metric.Key, baseline))} |");
                    }
                }

                text.AppendLine();
            }
        }

        text.AppendLine();
    }

    /// <summary>"43.8k (42.1k–44.0k)"; "n/a" where the figure cannot exist; "failed" when every round failed.</summary>
    private static string Cell(BenchResults results, WorkloadInfo workload, MetricDefinition metric, string contender)
    {
        if (!workload.Contenders.Contains(contender) || (metric.ProxiesOnly && contender == "direct"))
        {
            return "n/a";
        }

        var attempts = results.Measurements.Count(m => m.Workload == workload.Name && m.Contender == contender);
        var summary = results.Summarise(workload.Name, metric.Key, contender);
        if (summary is null)
        {
            return attempts == 0 ? "–" : "failed";
        }

        var cell = summary.Count == 1
            ? NumberFormat.Compact(summary.Median)
            : $"{NumberFormat.Compact(summary.Median)} ({NumberFormat.Compact(summary.Min)}–{NumberFormat.Compact(summary.Max)})";
        return summary.Count < attempts ? $"{cell} [{summary.Count}/{attempts} ok]" : cell;
    }

    private static void RenderTargets(BenchResults results, StringBuilder text)
    {
        var targets = Target.All.Where(t => results.Workloads.Any(w => w.Name == t.Workload)).ToList();
        if (targets.Count == 0)
        {
            return;
        }

        text.AppendLine("## Targets (issue 13)").AppendLine();
        text.AppendLine("| Target | Measured | Met |").AppendLine("|---|--:|:-:|");
        foreach (var target in targets)
        {
            var value = target.Measure(results);
            var measured = value is null ? "–" : target.Baseline is null ? $"{NumberFormat.Compact(value.Value)} KiB" : NumberFormat.Ratio(value);
            var met = target.IsMet(results) switch { true => "yes", false => "**no**", null => "no data" };
            text.AppendLine(CultureInfo.InvariantCulture, $"| {target.Description} | {measured} | {met} |");
        }

        text.AppendLine();
    }

    /// <summary>Failures grouped by contender and message, each with the failing program's last lines once.</summary>
    private static void RenderFailures(BenchResults results, StringBuilder text)
    {
        var failures = results.Measurements.Where(m => m.Error is not null).ToList();
        if (failures.Count == 0)
        {
            return;
        }

        text.AppendLine("## Failures").AppendLine();
        foreach (var group in failures.GroupBy(f => (f.Contender, f.Error)))
        {
            var where = string.Join(", ", group.Select(f => $"{f.Workload} r{f.Round}"));
            text.AppendLine(CultureInfo.InvariantCulture, $"- **{group.Key.Contender}** ({where}): {group.Key.Error}");
            var tail = group.First(f => f.LogTail.Count > 0 || f == group.Last()).LogTail;
            if (tail.Count > 0)
            {
                text.AppendLine("  ```");
                foreach (var line in tail)
                {
                    text.AppendLine(CultureInfo.InvariantCulture, $"  {line}");
                }

                text.AppendLine("  ```");
            }
        }

        text.AppendLine();
    }

    private static void RenderWorkloads(BenchResults results, StringBuilder text)
    {
        text.AppendLine("## Workloads").AppendLine();
        foreach (var workload in results.Workloads)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"- **{workload.Name}** — {workload.Description}");
        }

        text.AppendLine();
    }

    private static string Label(BenchResults results, string name) =>
        results.Contenders.FirstOrDefault(c => c.Name == name)?.Label ?? name;

    private static string Get(IReadOnlyDictionary<string, string> machine, string key) =>
        machine.TryGetValue(key, out var value) ? value : "?";

    private static string Duration(TimeSpan span) =>
        span.TotalMinutes >= 1
            ? string.Create(CultureInfo.InvariantCulture, $"{(int)span.TotalMinutes} min {span.Seconds} s")
            : string.Create(CultureInfo.InvariantCulture, $"{span.Seconds} s");
}
