using VipProxy.Bench.Infrastructure;

namespace VipProxy.Bench.Contenders;

/// <summary>
/// A "proxy under test": something a client connects to instead of the real server. The direct path is a
/// contender too (no proxy at all), so every workload treats them alike and the table has a baseline column.
/// </summary>
internal abstract class Contender
{
    /// <summary>Start failures in a row after which the contender is skipped for the rest of the run.</summary>
    private const int MaxConsecutiveStartFailures = 2;

    private int _consecutiveStartFailures;

    protected Contender(string name, string label)
    {
        Name = name;
        Label = label;
    }

    /// <summary>The short name used in the table, the JSON and on the command line (e.g. "haproxy-splice").</summary>
    public string Name { get; }

    public string Label { get; }

    /// <summary>False for the direct path: there is no proxy process whose memory or CPU could be measured.</summary>
    public virtual bool IsProxy => true;

    /// <summary>
    /// Set once the contender failed to start <see cref="MaxConsecutiveStartFailures"/> times in a row: a binary
    /// that is missing or never listens would otherwise cost its start timeout in every later measurement.
    /// </summary>
    public string? DisabledReason { get; private set; }

    /// <summary>Starts a fresh instance forwarding <paramref name="context"/>'s ports to the real server.</summary>
    public async Task<RunningContender> StartAsync(ContenderContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (DisabledReason is not null)
        {
            throw new BenchFailureException($"skipped: {DisabledReason}");
        }

        try
        {
            var running = await StartCoreAsync(context, cancellationToken);
            _consecutiveStartFailures = 0;
            return running;
        }
        catch (BenchFailureException e)
        {
            if (++_consecutiveStartFailures >= MaxConsecutiveStartFailures)
            {
                DisabledReason = $"failed to start {_consecutiveStartFailures} times in a row ({e.Message})";
            }

            throw;
        }
    }

    /// <summary>The matching active/backup pair for the failover workload, or null when this kind has none.</summary>
    public virtual FailoverPair? CreateFailoverPair() => null;

    protected abstract Task<RunningContender> StartCoreAsync(ContenderContext context, CancellationToken cancellationToken);

    public override string ToString() => Name;
}
