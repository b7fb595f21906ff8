namespace VipProxy.Bench.Results;

/// <summary>One figure a workload reports, e.g. wrk's requests per second.</summary>
/// <param name="Key">Stable identifier in the JSON (e.g. "requests_per_second").</param>
/// <param name="Label">Column text in the table.</param>
/// <param name="HigherIsBetter">Direction of "better", for the ratios' reading and the chart.</param>
/// <param name="ProxiesOnly">Measured on a proxy process (memory, CPU): the direct path has no such figure.</param>
internal sealed record MetricDefinition(string Key, string Label, string Unit, bool HigherIsBetter,
    bool ProxiesOnly = false);
