using VipProxy.HealthChecks.Decisions;
using VipProxy.HealthChecks.Probes;

namespace VipProxy.HealthChecks.Monitoring;

/// <summary>What one checker loop tells its real server after each probe.</summary>
internal sealed record CheckerReport(int CheckerIndex, ProbeResult Result, CheckDecision Decision, CheckerStatus Status);
