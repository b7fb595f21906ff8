using System.Globalization;

namespace VipProxy.Bench;

/// <summary>The harness's command line (bench/run.sh passes its arguments through).</summary>
internal sealed class BenchOptions
{
    public const string Usage = """
        usage: bench/run.sh [--quick] [--rounds N] [--only WORKLOAD[,WORKLOAD…]] [--contenders NAME[,NAME…]]
                            [--duration SECONDS] [--idle-connections N] [--vipproxy PATH] [--results DIR]

          --quick              every workload for a few seconds, 1 round, 1,000 idle connections (CI mode)
          --rounds N           interleaved rounds per figure (default 3; quick: 1)
          --only LIST          workloads by name or prefix: wrk-keepalive wrk-close iperf3-1 iperf3-8
                               sysbench-point-select sysbench-read-only idle-connections failover
                               (prefixes: wrk, iperf3, sysbench)
          --contenders LIST    direct, haproxy-mt (HAProxy at its defaults: a thread per CPU), haproxy (1 thread),
                               haproxy-splice (1 thread, splice-auto), vipproxy (a loop per CPU),
                               vipproxy-1t (forwarder_threads 1) (default: all)
          --duration SECONDS   length of each load run (default 10; quick: 3)
          --idle-connections N idle proxied connections (default 10000; quick: 1000), capped by the fd limit
          --vipproxy PATH      the vipproxy binary (default: artifacts/bin/vipproxy)
          --results DIR        where results go (default: bench/results)
        """;

    public bool Quick { get; private init; }

    public int Rounds { get; private init; }

    public int DurationSeconds { get; private init; }

    public int IdleConnections { get; private init; }

    public IReadOnlyList<string> Only { get; private init; } = [];

    public IReadOnlyList<string> Contenders { get; private init; } = [];

    public required string RepositoryRoot { get; init; }

    public required string VipProxyPath { get; init; }

    public required string ResultsDirectory { get; init; }

    public required IReadOnlyList<string> Arguments { get; init; }

    /// <summary>Parses the arguments; throws ArgumentException with a message fit for the user.</summary>
    public static BenchOptions Parse(IReadOnlyList<string> arguments)
    {
        ArgumentNullException.ThrowIfNull(arguments);
        bool quick = false;
        int? rounds = null, duration = null, idle = null;
        string? vipproxy = null, results = null;
        List<string> only = [], contenders = [];
        for (var i = 0; i < arguments.Count; i++)
        {
            var argument = arguments[i];
            string Value() => i + 1 < arguments.Count
                ? arguments[++i]
                : throw new ArgumentException($"{argument} needs a value");
            switch (argument)
            {
                case "--quick":
                    quick = true;
                    break;
                case "--rounds":
                    rounds = PositiveInteger(argument, Value());
                    break;
                case "--duration":
                    duration = PositiveInteger(argument, Value());
                    break;
                case "--idle-connections":
                    idle = PositiveInteger(argument, Value());
                    break;
                case "--only":
                    only.AddRange(List(Value()));
                    break;
                case "--contenders":
                    contenders.AddRange(List(Value()));
                    break;
                case "--vipproxy":
                    vipproxy = Value();
                    break;
                case "--results":
                    results = Value();
                    break;
                default:
                    throw new ArgumentException($"unknown argument '{argument}'");
            }
        }

        var root = FindRepositoryRoot();
        return new BenchOptions
        {
            Quick = quick,
            Rounds = rounds ?? (quick ? 1 : 3),
            DurationSeconds = duration ?? (quick ? 3 : 10),
            IdleConnections = idle ?? (quick ? 1_000 : 10_000),
            Only = only,
            Contenders = contenders,
            RepositoryRoot = root,
            VipProxyPath = Path.GetFullPath(vipproxy ?? Path.Combine(root, "artifacts", "bin", "vipproxy")),
            ResultsDirectory = Path.GetFullPath(results ?? Path.Combine(root, "bench", "results")),
            Arguments = [.. arguments],
        };
    }

    private static int PositiveInteger(string name, string value) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var number) && number > 0
            ? number
            : throw new ArgumentException($"{name} needs a positive whole number, not '{value}'");

    private static IEnumerable<string> List(string value) =>
        value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>The directory holding VipProxy.sln, searched upwards from the working directory and the binary.</summary>
    private static string FindRepositoryRoot()
    {
        foreach (var start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory })
        {
            for (var directory = new DirectoryInfo(start); directory is not null; directory = directory.Parent)
            {
                if (File.Exists(Path.Combine(directory.FullName, "VipProxy.sln")))
                {
                    return directory.FullName;
                }
            }
        }

        throw new ArgumentException("cannot find the repository root (VipProxy.sln): run from inside the repository");
    }
}
