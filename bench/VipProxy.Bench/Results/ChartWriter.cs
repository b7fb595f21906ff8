using System.Globalization;
using System.Text;
using VipProxy.Bench.Infrastructure;

namespace VipProxy.Bench.Results;

/// <summary>
/// A PNG bar chart of VipProxy against each baseline, drawn by gnuplot (Debian's gnuplot-nox; no NuGet package).
/// Every figure is shown as VipProxy's advantage: the ratio for higher-is-better figures, its inverse for
/// lower-is-better ones, so a bar above 1 always means VipProxy did better and the bars read alike.
/// </summary>
internal static class ChartWriter
{
    /// <summary>Writes <paramref name="pngPath"/>; returns null on success, else why not (e.g. gnuplot missing).</summary>
    public static async Task<string?> WriteAsync(BenchResults results, string pngPath, string scratchDirectory)
    {
        ArgumentNullException.ThrowIfNull(results);
        Directory.CreateDirectory(scratchDirectory);
        var dataPath = Path.Combine(scratchDirectory, "ratios.dat");
        var scriptPath = Path.Combine(scratchDirectory, "ratios.gnuplot");
        var rows = Rows(results);
        await File.WriteAllTextAsync(dataPath, Data(rows));
        await File.WriteAllTextAsync(scriptPath, Script(results, dataPath, pngPath, rows.Count > 0));
        var output = await LocalCommand.RunAsync("gnuplot", [scriptPath], timeout: TimeSpan.FromSeconds(60));
        return output.Succeeded && File.Exists(pngPath) ? null : $"gnuplot failed: {output.Text}";
    }

    private static List<(string Label, double?[] Advantages)> Rows(BenchResults results)
    {
        var rows = new List<(string, double?[])>();
        foreach (var workload in results.Workloads)
        {
            foreach (var metric in workload.Metrics)
            {
                var advantages = BenchResults.Baselines
                    .Select(b => results.Ratio(workload.Name, metric.Key, b) is { } r && r > 0
                        ? metric.HigherIsBetter ? r : 1 / r
                        : (double?)null)
                    .ToArray();
                if (advantages.Any(a => a is not null))
                {
                    rows.Add(($"{workload.Name} {metric.Label}", advantages));
                }
            }
        }

        return rows;
    }

    private static string Data(List<(string Label, double?[] Advantages)> rows)
    {
        var text = new StringBuilder();
        foreach (var (label, advantages) in rows)
        {
            text.Append(CultureInfo.InvariantCulture, $"\"{label}\"");
            foreach (var advantage in advantages)
            {
                text.Append(' ').Append(advantage?.ToString("0.####", CultureInfo.InvariantCulture) ?? "-");
            }

            text.AppendLine();
        }

        return text.ToString();
    }

    private static string Script(BenchResults results, string dataPath, string pngPath, bool hasData)
    {
        var info = results.Info;
        var title = $"VipProxy vs baselines ({info.Commit}, {info.Mode}, {info.Rounds} round{(info.Rounds == 1 ? "" : "s")}) " +
                    "— bar > 1: VipProxy better (lower-is-better figures inverted)";
        var common = $"""
            set terminal pngcairo size 1400,700 font "sans,10"
            set output "{pngPath}"
            set title "{title}"
            set ylabel "VipProxy advantage (×)"
            set grid ytics
            set yrange [0:*]
            """;
        if (!hasData)
        {
            // No VipProxy figures (binary missing or not forwarding yet): still a valid chart file, saying so.
            return common + """

                set label 1 "no VipProxy figures in this run — see the Failures section of the report" at graph 0.5, 0.7 center
                unset xtics
                set xrange [0:1]
                set yrange [0:2]
                plot 1 with lines dashtype 2 lc rgb "black" title "parity"
                """;
        }

        return common + $"""

            set datafile missing "-"
            set style data histograms
            set style histogram clustered gap 1
            set style fill solid 0.85 border -1
            set boxwidth 0.9
            set xtics rotate by -35 scale 0 noenhanced
            set key top right
            set bmargin 10
            plot "{dataPath}" using 2:xtic(1) title "vs HAProxy" lc rgb "#1f77b4", \
                 "" using 3 title "vs HAProxy splice-auto" lc rgb "#ff7f0e", \
                 "" using 4 title "vs direct" lc rgb "#2ca02c", \
                 1 with lines dashtype 2 lc rgb "black" title "parity"
            """;
    }
}
