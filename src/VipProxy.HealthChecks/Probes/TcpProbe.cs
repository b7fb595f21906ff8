namespace VipProxy.HealthChecks.Probes;

/// <summary>
/// <c>TCP_CHECK</c>: the server is up when a TCP connection opens; it is closed at once (FIN, not reset).
/// </summary>
/// <remarks>On a MySQL server every such probe counts in <c>Aborted_connects</c> and towards
/// <c>max_connect_errors</c>; MYSQL_CHECK with credentials is the clean alternative.</remarks>
public sealed class TcpProbe : IHealthProbe
{
    private readonly ProbeTarget _target;
    private readonly TimeProvider _timeProvider;

    /// <summary>Creates the probe.</summary>
    public TcpProbe(ProbeTarget target, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(target);
        _target = target;
        _timeProvider = timeProvider ?? TimeProvider.System;
    }

    /// <inheritdoc/>
    public string Description => $"TCP_CHECK {_target}";

    /// <inheritdoc/>
    public Task<ProbeResult> ProbeAsync(CancellationToken cancellationToken) =>
        SocketProbeRunner.RunAsync(_target, _timeProvider,
            (_, _, _) => Task.FromResult(ProbeResult.Up("connected")), cancellationToken);
}
