using VipProxy.Bench.Contenders;

namespace VipProxy.Bench.Workloads;

/// <summary>
/// A workload against a single, freshly started contender. Fresh per measurement, so one workload's leftovers
/// (pooled buffers, a grown heap, connections in TIME_WAIT) never flatter or burden the next one's figures.
/// </summary>
internal abstract class ProxiedWorkload(string name, string title) : Workload(name, title)
{
    public override async Task<MeasuredValues> RunAsync(Contender contender, WorkloadContext context,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(contender);
        ArgumentNullException.ThrowIfNull(context);
        await using var running = await contender.StartAsync(context.Contenders, cancellationToken);
        return await MeasureAsync(running, context, cancellationToken);
    }

    protected abstract Task<MeasuredValues> MeasureAsync(RunningContender target, WorkloadContext context,
        CancellationToken cancellationToken);
}
