using VipProxy.Bench.Contenders;
using VipProxy.Bench.Infrastructure;
using VipProxy.Bench.Results;

namespace VipProxy.Bench.Workloads;

/// <summary>
/// One kind of load and the figures it yields. A workload measures one contender at a time; the runner
/// interleaves contenders within a round, so slow drift on the machine spreads evenly over them.
/// </summary>
internal abstract class Workload(string name, string title)
{
    /// <summary>The name used with --only and as the JSON key, e.g. "wrk-keepalive".</summary>
    public string Name { get; } = name;

    public string Title { get; } = title;

    /// <summary>How the figures were obtained, for the report.</summary>
    public abstract string Description { get; }

    public abstract IReadOnlyList<MetricDefinition> Metrics { get; }

    /// <summary>The real server's services this workload needs (the runner starts only those).</summary>
    public abstract IReadOnlySet<Service> Services { get; }

    public virtual bool AppliesTo(Contender contender) => true;

    /// <summary>
    /// Measures <paramref name="contender"/> once. Throws <see cref="BenchFailureException"/> when no figure could be
    /// taken; returns the metric values otherwise (a proxy-only metric is simply absent for the direct path).
    /// </summary>
    public abstract Task<MeasuredValues> RunAsync(Contender contender, WorkloadContext context,
        CancellationToken cancellationToken);

    public WorkloadInfo Describe(IEnumerable<Contender> contenders) =>
        new(Name, Title, Description, Metrics, contenders.Where(AppliesTo).Select(c => c.Name).ToList());
}

/// <summary>A workload's figures from one measurement, with optional notes for the JSON.</summary>
internal sealed class MeasuredValues
{
    public Dictionary<string, double> Values { get; } = [];

    public Dictionary<string, string> Notes { get; } = [];
}
