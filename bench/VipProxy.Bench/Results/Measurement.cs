namespace VipProxy.Bench.Results;

/// <summary>
/// One contender on one workload in one round: the figures it produced, or why it produced none. A failure is a
/// result too — the run goes on, and the report lists it.
/// </summary>
internal sealed class Measurement
{
    public required string Workload { get; init; }

    public required string Contender { get; init; }

    public required int Round { get; init; }

    /// <summary>Metric key → value. Empty when the measurement failed.</summary>
    public IReadOnlyDictionary<string, double> Values { get; init; } = new Dictionary<string, double>();

    public string? Error { get; init; }

    /// <summary>The last lines the failing program printed (its log), so the report says why.</summary>
    public IReadOnlyList<string> LogTail { get; init; } = [];

    public double Seconds { get; init; }

    /// <summary>Context worth keeping (e.g. the number of idle connections actually held).</summary>
    public IReadOnlyDictionary<string, string> Notes { get; init; } = new Dictionary<string, string>();
}
