namespace VipProxy.HealthChecks.Probes;

/// <summary>
/// One checker's probe of one real server. Each call is a complete, self-contained attempt that enforces its own
/// deadline (<c>connect_timeout</c>, or <c>misc_timeout</c> for scripts) and reports failures as a down
/// <see cref="ProbeResult"/>; it throws only <see cref="OperationCanceledException"/> when the caller's token is
/// cancelled. Implementations are safe to call concurrently.
/// </summary>
public interface IHealthProbe
{
    /// <summary>What is probed, for logs: e.g. <c>MYSQL_CHECK 10.0.0.2:3306</c>.</summary>
    string Description { get; }

    /// <summary>Runs one probe.</summary>
    Task<ProbeResult> ProbeAsync(CancellationToken cancellationToken);
}
