namespace VipProxy.HealthChecks.Probes;

/// <summary>The outcome of one probe.</summary>
/// <param name="IsUp">True when the probe passed.</param>
/// <param name="Reason">A short human-readable explanation, for logs and status output.</param>
/// <param name="ErrorCode">The code that explains a failure, where the checker has one: the MySQL server's error
/// number (e.g. 1045), the HTTP status, the script's exit code, or the socket error number.</param>
/// <param name="DynamicWeight">MISC_CHECK with <c>misc_dynamic</c>: the weight the script asked for (exit code − 2).</param>
public sealed record ProbeResult(bool IsUp, string Reason, int? ErrorCode = null, int? DynamicWeight = null)
{
    /// <summary>MYSQL_CHECK with <c>lag_weight on</c>: the share of the configured weight the server should have now,
    /// in percent (0–100), as HAProxy's agent reports "weight%". Null: the check says nothing about the weight.</summary>
    public int? WeightPercent { get; init; }

    /// <summary>A passed probe.</summary>
    public static ProbeResult Up(string reason, int? dynamicWeight = null) => new(true, reason, null, dynamicWeight);

    /// <summary>A failed probe.</summary>
    public static ProbeResult Down(string reason, int? errorCode = null) => new(false, reason, errorCode);

    /// <inheritdoc/>
    public override string ToString() =>
        (IsUp ? "up: " : "down: ") + Reason + (ErrorCode is { } code ? $" (code {code})" : string.Empty);
}
