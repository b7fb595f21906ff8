using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace VipProxy.HealthChecks.Monitoring;

/// <summary>What the monitors need from their surroundings; the defaults are for production.</summary>
public sealed record HealthMonitorOptions
{
    /// <summary>Clock for the probe schedule (a FakeTimeProvider in tests).</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>Source of the warmup delays; inject a seeded instance for reproducible tests. Only used while
    /// monitors are constructed, so an unsynchronised <see cref="Random"/> is fine.</summary>
    public Random Random { get; init; } = Random.Shared;

    /// <summary>Logging.</summary>
    public ILoggerFactory LoggerFactory { get; init; } = NullLoggerFactory.Instance;

    /// <summary>Time limit of notify_up/notify_down/quorum_up/quorum_down scripts (keepalived has none; a hung
    /// script must not pile up forever).</summary>
    public TimeSpan NotifyScriptTimeout { get; init; } = TimeSpan.FromSeconds(30);
}
