namespace VipProxy.HealthChecks.Probes;

/// <summary>
/// What a probe is doing right now ("connecting", "reading the greeting"…), so that a timeout or an error can say
/// where it happened. Written by the probe's exchange, read when it fails.
/// </summary>
internal sealed class ProbeStep
{
    public string Current { get; set; } = "connecting";
}
