using System.Diagnostics;
using System.Globalization;
using System.Text;
using VipProxy.Bench.Contenders;
using VipProxy.Bench.Infrastructure;
using VipProxy.Bench.Results;
using VipProxy.Bench.Workloads;

namespace VipProxy.Bench;

/// <summary>
/// One benchmark run: build the LAN, start the backends, then for each round measure every workload on every
/// contender in turn (round 1: direct, haproxy, haproxy-splice, vipproxy; round 2: …), and write the report.
/// The report is written however the run ends (complete, Ctrl-C, an unexpected error), and the LAN is always
/// torn down.
/// </summary>
internal sealed class BenchRunner(BenchOptions options)
{
    public static IReadOnlyList<Workload> AllWorkloads() =>
    [
        new WrkKeepAliveWorkload(),
        new WrkCloseWorkload(),
        new Iperf3SingleStreamWorkload(),
        new Iperf3MultiStreamWorkload(),
        new SysbenchPointSelectWorkload(),
        new SysbenchReadOnlyWorkload(),
        new IdleConnectionsWorkload(),
        new FailoverWorkload(),
    ];

    public IReadOnlyList<Contender> AllContenders() =>
    [
        new DirectContender(),
        new HaproxyContender(splice: false, defaults: true),
        new HaproxyContender(splice: false),
        new HaproxyContender(splice: true),
        new VipProxyContender(options.VipProxyPath),
        new VipProxyContender(options.VipProxyPath, threads: 1),
    ];

    /// <summary>Returns the process exit code: 0 when the run completed, 1 when it was cut short.</summary>
    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        var workloads = Select(AllWorkloads(), options.Only, (w, name) => w.Name == name || w.Name.StartsWith(name + "-", StringComparison.Ordinal), "workload");
        var contenders = Select(AllContenders(), options.Contenders, (c, name) => c.Name == name, "contender");
        var stamp = DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture) + (options.Quick ? "-quick" : "");
        var scratch = Path.Combine(options.ResultsDirectory, "tmp");
        using var log = new BenchLog(Path.Combine(scratch, $"bench-{stamp}.log"));
        var workDirectory = Directory.CreateTempSubdirectory("vipproxy-bench-").FullName;

        var results = new BenchResults(await CreateRunInfoAsync(), [.. workloads.Select(w => w.Describe(contenders))],
            [.. contenders.Select(c => new ContenderInfo(c.Name, c.Label))]);
        log.Progress($"VipProxy benchmark {results.Info.Commit}: {results.Info.Mode} mode, {options.Rounds} round(s), " +
                     $"{options.DurationSeconds} s per load run; detail log {log.Path}");
        log.Progress($"workloads: {string.Join(' ', workloads.Select(w => w.Name))}; contenders: {string.Join(' ', contenders.Select(c => c.Name))}");
        if (!File.Exists(options.VipProxyPath) && contenders.Any(c => c is VipProxyContender))
        {
            log.Progress($"warning: {options.VipProxyPath} is missing: the vipproxy contender will fail (bench/run.sh --publish builds it)");
        }

        if (double.TryParse(MachineInfo.LoadAverage().Split(' ')[0], CultureInfo.InvariantCulture, out var load) && load > 1.0)
        {
            log.Progress($"warning: load average {load:0.0} before the start: other work on this machine will lower every figure");
        }

        BenchTopology? topology = null;
        try
        {
            log.Progress("building the namespace LAN (client, lb, lb2, rs1 on one bridge)");
            topology = await BenchTopology.CreateAsync(log.Detail, cancellationToken);

            var services = workloads.SelectMany(w => w.Services).Distinct().Order().ToList();
            var contenderContext = new ContenderContext(topology, workDirectory, log, services, ProcFs.OpenFilesLimit());
            var context = new WorkloadContext(topology, contenderContext, options, log);
            log.Progress($"starting backends on rs1: {string.Join(", ", services)}");
            await new Backends(topology, workDirectory, log).StartAsync(services.ToHashSet(), context.MaxIdleConnections, cancellationToken);
            results.Info.IdleConnections = context.MaxIdleConnections;
            if (context.MaxIdleConnections < options.IdleConnections && workloads.Any(w => w is IdleConnectionsWorkload))
            {
                results.Info.Notes.Add($"idle connections capped at {context.MaxIdleConnections:N0} for VipProxy and {context.IdleConnections:N0} for HAProxy " +
                                       $"(asked {options.IdleConnections:N0}): the fd limit is {contenderContext.OpenFilesLimit} and each proxied connection " +
                                       "costs the proxy two fds (HAProxy's maxconn also leaves room for its pipes); root cannot raise the hard limit " +
                                       "here (no CAP_SYS_RESOURCE), so 50,000 cannot be held on this machine");
            }

            for (var round = 1; round <= options.Rounds; round++)
            {
                foreach (var workload in workloads)
                {
                    foreach (var contender in contenders.Where(workload.AppliesTo))
                    {
                        cancellationToken.ThrowIfCancellationRequested();
                        results.Add(await MeasureAsync(workload, contender, round, context, log, cancellationToken));
                    }
                }
            }

            results.Info.Complete = true;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            results.Info.AbortReason = "interrupted (Ctrl-C or SIGTERM)";
            log.Progress("interrupted: tearing down and writing the figures measured so far");
        }
#pragma warning disable CA1031 // Whatever broke the run, the LAN must come down and the partial report be written.
        catch (Exception e)
#pragma warning restore CA1031
        {
            results.Info.AbortReason = $"aborted: {e.GetType().Name}: {e.Message}";
            log.Progress($"run aborted: {e.Message}");
            log.Detail(e.ToString());
        }
        finally
        {
            if (topology is not null)
            {
                log.Progress("tearing down the LAN");
                try
                {
                    await topology.DisposeAsync();
                }
                catch (InvalidOperationException e)
                {
                    log.Progress($"teardown: {e.Message}");
                }
            }

            TryDelete(workDirectory, log);
        }

        results.Info.FinishedUtc = DateTime.UtcNow;
        results.Info.Notes.Add($"load average (1/5/15 min) at start {results.Info.Machine["load_average_at_start"]}, " +
                               $"at end {MachineInfo.LoadAverage()}: on 2 cores, anything else running lowers all figures");
        await WriteReportsAsync(results, stamp, scratch, log);
        return results.Info.Complete ? 0 : 1;
    }

    private static async Task<Measurement> MeasureAsync(Workload workload, Contender contender, int round,
        WorkloadContext context, BenchLog log, CancellationToken cancellationToken)
    {
        var prefix = string.Create(CultureInfo.InvariantCulture,
            $"r{round}/{context.Options.Rounds} {workload.Name,-22} {contender.Name,-15}");
        log.Detail($"--- {prefix}");
        var stopwatch = Stopwatch.StartNew();
        try
        {
            var measured = await workload.RunAsync(contender, context, cancellationToken);
            log.Progress($"{prefix} {Describe(workload, measured)}  ({stopwatch.Elapsed.TotalSeconds:0.0} s)");
            return new Measurement
            {
                Workload = workload.Name, Contender = contender.Name, Round = round, Values = measured.Values,
                Notes = measured.Notes, Seconds = stopwatch.Elapsed.TotalSeconds,
            };
        }
        catch (Exception e) when (e is BenchFailureException or TimeoutException or InvalidOperationException or IOException)
        {
            var tail = e is BenchFailureException failure ? failure.LogTail : [];
            log.Progress($"{prefix} FAILED: {e.Message}  ({stopwatch.Elapsed.TotalSeconds:0.0} s)");
            foreach (var line in tail)
            {
                log.Progress($"    | {line}");
            }

            log.Detail(e.ToString());
            return new Measurement
            {
                Workload = workload.Name, Contender = contender.Name, Round = round, Error = e.Message, LogTail = tail,
                Seconds = stopwatch.Elapsed.TotalSeconds,
            };
        }
    }

    private static string Describe(Workload workload, MeasuredValues measured)
    {
        var text = new StringBuilder();
        foreach (var metric in workload.Metrics)
        {
            if (measured.Values.TryGetValue(metric.Key, out var value))
            {
                text.Append(CultureInfo.InvariantCulture, $"{metric.Label} {NumberFormat.Compact(value)} {metric.Unit}   ");
            }
        }

        return text.ToString().TrimEnd();
    }

    private async Task<RunInfo> CreateRunInfoAsync()
    {
        var commit = await LocalCommand.RunAsync("git", ["rev-parse", "--short", "HEAD"], options.RepositoryRoot);
        var status = await LocalCommand.RunAsync("git", ["status", "--porcelain", "--", "src"], options.RepositoryRoot);
        return new RunInfo
        {
            Commit = commit.Succeeded ? commit.StandardOutput.Trim() : "unknown",
            SourceDirty = status.Succeeded && status.StandardOutput.Trim().Length > 0,
            StartedUtc = DateTime.UtcNow,
            Mode = options.Quick ? "quick" : "full",
            Rounds = options.Rounds,
            DurationSeconds = options.DurationSeconds,
            IdleConnections = options.IdleConnections,
            CommandLine = string.Join(' ', ["bench/run.sh", .. options.Arguments]),
            Machine = await MachineInfo.CollectAsync(options.VipProxyPath),
        };
    }

    /// <summary>Timestamped files (kept) and latest.* (overwritten by every run), each Markdown naming its own chart.</summary>
    private async Task WriteReportsAsync(BenchResults results, string stamp, string scratch, BenchLog log)
    {
        Directory.CreateDirectory(options.ResultsDirectory);
        foreach (var name in new[] { $"bench-{stamp}", "latest" })
        {
            var png = Path.Combine(options.ResultsDirectory, name + ".png");
            var chartError = await ChartWriter.WriteAsync(results, png, scratch);
            if (chartError is not null)
            {
                log.Progress($"chart not written: {chartError}");
            }

            await File.WriteAllTextAsync(Path.Combine(options.ResultsDirectory, name + ".md"),
                MarkdownWriter.Render(results, chartError is null ? Path.GetFileName(png) : null));
            await File.WriteAllTextAsync(Path.Combine(options.ResultsDirectory, name + ".json"), JsonWriter.Render(results));
        }

        log.Progress($"results: {Path.Combine(options.ResultsDirectory, $"bench-{stamp}")}.{{md,json,png}} and latest.*");
        Console.WriteLine();
        Console.WriteLine(await File.ReadAllTextAsync(Path.Combine(options.ResultsDirectory, "latest.md")));
    }

    private static List<T> Select<T>(IReadOnlyList<T> all, IReadOnlyList<string> names, Func<T, string, bool> matches,
        string kind)
    {
        if (names.Count == 0)
        {
            return [.. all];
        }

        foreach (var name in names.Where(n => !all.Any(item => matches(item, n))))
        {
            throw new ArgumentException($"unknown {kind} '{name}'");
        }

        // The run's order stays the canonical one whatever order the names were given in.
        return all.Where(item => names.Any(n => matches(item, n))).ToList();
    }

    private static void TryDelete(string directory, BenchLog log)
    {
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (IOException e)
        {
            log.Detail($"could not delete {directory}: {e.Message}");
        }
        catch (UnauthorizedAccessException e)
        {
            log.Detail($"could not delete {directory}: {e.Message}");
        }
    }
}
