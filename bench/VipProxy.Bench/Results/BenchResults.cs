namespace VipProxy.Bench.Results;

/// <summary>Everything a run produced, in the order it was measured, plus the definitions needed to read it.</summary>
internal sealed class BenchResults(RunInfo info, IReadOnlyList<WorkloadInfo> workloads, IReadOnlyList<ContenderInfo> contenders)
{
    /// <summary>The contender every ratio has in its numerator.</summary>
    public const string Subject = "vipproxy";

    /// <summary>The contenders VipProxy is compared with, in the order the ratio columns appear.</summary>
    public static readonly IReadOnlyList<string> Baselines = ["haproxy-mt", "haproxy", "haproxy-splice", "direct"];

    private readonly Lock _gate = new();
    private readonly List<Measurement> _measurements = [];

    public RunInfo Info { get; } = info;

    public IReadOnlyList<WorkloadInfo> Workloads { get; } = workloads;

    public IReadOnlyList<ContenderInfo> Contenders { get; } = contenders;

    public IReadOnlyList<Measurement> Measurements
    {
        get
        {
            lock (_gate)
            {
                return [.. _measurements];
            }
        }
    }

    public void Add(Measurement measurement)
    {
        lock (_gate)
        {
            _measurements.Add(measurement);
        }
    }

    public IReadOnlyList<double> Values(string workload, string metric, string contender) =>
        Measurements
            .Where(m => m.Workload == workload && m.Contender == contender && m.Values.ContainsKey(metric))
            .Select(m => m.Values[metric])
            .ToList();

    public Summary? Summarise(string workload, string metric, string contender) =>
        Summary.Of(Values(workload, metric, contender).ToList());

    /// <summary>median(VipProxy) / median(baseline), or null when either side has no figure.</summary>
    public double? Ratio(string workload, string metric, string baseline)
    {
        var subject = Summarise(workload, metric, Subject);
        var other = Summarise(workload, metric, baseline);
        return subject is null || other is null || other.Median == 0 ? null : subject.Median / other.Median;
    }
}

/// <summary>A workload as the report describes it.</summary>
internal sealed record WorkloadInfo(string Name, string Title, string Description, IReadOnlyList<MetricDefinition> Metrics,
    IReadOnlyList<string> Contenders);

/// <summary>A contender as the report describes it.</summary>
internal sealed record ContenderInfo(string Name, string Label);
