using System.Text.Json;
using System.Text.Json.Nodes;

namespace VipProxy.Bench.Results;

/// <summary>
/// The machine-readable report: the same header, per figure the summaries and ratios, the target checks, and
/// every raw measurement (values, errors, notes) so later analysis never has to re-run the benchmark.
/// </summary>
internal static class JsonWriter
{
    // Relaxed escaping: the file is read by people and scripts, never embedded in HTML, and "2.6.12-1+deb12u4"
    // reads better than "2.6.12-1\u002Bdeb12u4".
    private static readonly JsonSerializerOptions Options = new()
    {
        WriteIndented = true,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static string Render(BenchResults results)
    {
        ArgumentNullException.ThrowIfNull(results);
        var info = results.Info;
        var root = new JsonObject
        {
            ["commit"] = info.Commit,
            ["source_dirty"] = info.SourceDirty,
            ["started_utc"] = info.StartedUtc.ToString("O"),
            ["finished_utc"] = info.FinishedUtc.ToString("O"),
            ["mode"] = info.Mode,
            ["rounds"] = info.Rounds,
            ["duration_seconds"] = info.DurationSeconds,
            ["idle_connections"] = info.IdleConnections,
            ["command_line"] = info.CommandLine,
            ["complete"] = info.Complete,
            ["abort_reason"] = info.AbortReason,
            ["machine"] = ToObject(info.Machine),
            ["notes"] = new JsonArray([.. info.Notes.Select(n => (JsonNode?)n)]),
            ["contenders"] = new JsonArray([.. results.Contenders.Select(c => (JsonNode?)new JsonObject
            {
                ["name"] = c.Name,
                ["label"] = c.Label,
            })]),
            ["workloads"] = new JsonArray([.. results.Workloads.Select(w => (JsonNode?)Workload(results, w))]),
            ["targets"] = new JsonArray([.. Target.All.Select(t => (JsonNode?)new JsonObject
            {
                ["description"] = t.Description,
                ["workload"] = t.Workload,
                ["metric"] = t.Metric,
                ["baseline"] = t.Baseline,
                ["bound"] = t.Bound,
                ["at_least"] = t.AtLeast,
                ["measured"] = t.Measure(results),
                ["met"] = t.IsMet(results),
            })]),
            ["measurements"] = new JsonArray([.. results.Measurements.Select(m => (JsonNode?)new JsonObject
            {
                ["workload"] = m.Workload,
                ["contender"] = m.Contender,
                ["round"] = m.Round,
                ["seconds"] = Math.Round(m.Seconds, 2),
                ["values"] = new JsonObject(m.Values.Select(v => KeyValuePair.Create(v.Key, (JsonNode?)v.Value))),
                ["notes"] = ToObject(m.Notes),
                ["error"] = m.Error,
                ["log_tail"] = new JsonArray([.. m.LogTail.Select(l => (JsonNode?)l)]),
            })]),
        };
        return root.ToJsonString(Options);
    }

    private static JsonObject Workload(BenchResults results, WorkloadInfo workload) => new()
    {
        ["name"] = workload.Name,
        ["title"] = workload.Title,
        ["description"] = workload.Description,
        ["contenders"] = new JsonArray([.. workload.Contenders.Select(c => (JsonNode?)c)]),
        ["metrics"] = new JsonArray([.. workload.Metrics.Select(metric => (JsonNode?)new JsonObject
        {
            ["key"] = metric.Key,
            ["label"] = metric.Label,
            ["unit"] = metric.Unit,
            ["higher_is_better"] = metric.HigherIsBetter,
            ["results"] = new JsonObject(workload.Contenders.Select(contender =>
                KeyValuePair.Create(contender, (JsonNode?)Result(results, workload.Name, metric.Key, contender)))),
            ["ratios"] = new JsonObject(BenchResults.Baselines.Select(baseline =>
                KeyValuePair.Create($"{BenchResults.Subject}_vs_{baseline}",
                    (JsonNode?)results.Ratio(workload.Name, metric.Key, baseline)))),
        })]),
    };

    private static JsonObject Result(BenchResults results, string workload, string metric, string contender)
    {
        var summary = results.Summarise(workload, metric, contender);
        return new JsonObject
        {
            ["median"] = summary?.Median,
            ["min"] = summary?.Min,
            ["max"] = summary?.Max,
            ["samples"] = new JsonArray([.. results.Values(workload, metric, contender).Select(v => (JsonNode?)v)]),
        };
    }

    private static JsonObject ToObject(IReadOnlyDictionary<string, string> values) =>
        new(values.Select(v => KeyValuePair.Create(v.Key, (JsonNode?)v.Value)));
}
