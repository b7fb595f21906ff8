using VipProxy.Config.Model;
using VipProxy.Forwarding.Relay;
using VipProxy.Forwarding.Runtime;
using VipProxy.HealthChecks.Monitoring;

namespace VipProxy.Host.Status;

/// <summary>Joins the forwarder's counters and the health checks' verdicts into the stable report shape.</summary>
internal static class StatusMapping
{
    public static VirtualServerReport From(VirtualServerTrafficStatus forwarding, VirtualServerHealthStatus? health, Operations.OperatorState? operatorState = null, (bool InConflict, long Conflicts)? writers = null) => new(
        forwarding.Endpoint.Address.ToString(),
        forwarding.Endpoint.Port,
        forwarding.Algorithm.ToLbAlgoName(),
        forwarding.Accepting,
        QuorumUp: health?.HasQuorum ?? true,
        forwarding.PersistenceEntries ?? 0,
        forwarding.OpenConnections,
        forwarding.AcceptedConnections,
        RefusedConnections: forwarding.CountOf(CloseReason.VirtualServerFull) + forwarding.CountOf(CloseReason.RealServerFull) + forwarding.CountOf(CloseReason.NoRealServer)
            + forwarding.SourceLimitRefused + forwarding.SourceRateRefused + forwarding.CountOf(CloseReason.TransparentBindFailed),
        forwarding.RealServers.Select(r =>
        {
            var checks = health?.RealServers.FirstOrDefault(h => h.Endpoint.Equals(r.Endpoint));
            var overridden = operatorState?.Find(forwarding.Endpoint, r.Endpoint);
            return new RealServerReport(
                r.Endpoint.Address.ToString(),
                r.Endpoint.Port,
                r.EffectiveWeight ?? 0,
                r.Up,
                checks?.LastResult is null ? null : checks.Reason,
                checks?.LastCheckTime,
                r.ActiveConnections,
                r.InactiveConnections,
                r.TotalConnections,
                BytesIn: r.BytesToServer,
                BytesOut: r.BytesFromServer,
                r.FailedConnects,
                r.Suspect)
            {
                ConfiguredWeight = r.ConfiguredWeight,
                Operator = r.Operator.Mode == OperatorMode.None ? null : Operations.ServerOverride.ModeName(r.Operator.Mode),
                OperatorWeight = r.Operator.Weight,
                OperatorSetAt = overridden?.SetAt,
                Backup = r.Backup,
                StandingBy = r.StandingBy,
            };
        }).ToList())
    {
        SourceLimitRefused = forwarding.SourceLimitRefused,
        SourceRateRefused = forwarding.SourceRateRefused,
        TrackedSources = forwarding.TrackedSources,
        WriterConflict = writers?.InConflict,
        WriterConflicts = writers?.Conflicts ?? 0,
    };
}
