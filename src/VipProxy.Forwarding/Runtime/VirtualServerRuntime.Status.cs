using System.Collections.Immutable;
using System.Net;
using VipProxy.Forwarding.Relay;
using VipProxy.Forwarding.Scheduling;

namespace VipProxy.Forwarding.Runtime;

/// <summary>Status output. Reads counters without stopping the data path; figures may be a moment apart.</summary>
public sealed partial class VirtualServerRuntime
{
    /// <summary>A snapshot of this virtual server for <c>vipproxy status</c>.</summary>
    public VirtualServerTrafficStatus GetStatus()
    {
        DispatchSnapshot snapshot = Volatile.Read(ref _snapshot);
        ImmutableArray<RealServerTrafficStatus> servers;
        lock (_control)
        {
            long now = _timeProvider.GetTimestamp();
            servers = [.. _slots.Concat(_draining).Select(slot => Describe(slot.Name, slot.Config.Endpoint, slot.Config.Weight,
                slot.ScheduledWeight, slot.Up, slot.Draining, slot.Counters, slot.Config.MaxConnections ?? 0) with
            {
                Suspect = slot.SuspectSince is not null,
                HeldDown = slot.HeldDown,
                Backup = slot.Config.Backup,
                StandingBy = slot.StandingBy,
                SuspectRemaining = slot.SuspectSince is { } since ? Remaining(slot, since, now) : null,
                Operator = slot.Operator,
            })];
        }

        RealServerTrafficStatus? sorry = snapshot.SorryServer is { } sorryServer
            ? Describe(sorryServer.Name, sorryServer.Endpoint, 1, snapshot.HasLiveServer ? null : 1, true, false, _sorryCounters, 0)
            : null;

        var reasons = ImmutableArray.CreateBuilder<CloseReasonCount>(CloseReasonSides.Count);
        for (int i = 0; i < CloseReasonSides.Count; i++)
        {
            reasons.Add(new CloseReasonCount((CloseReason)i, Volatile.Read(ref _closeReasons[i])));
        }

        return new VirtualServerTrafficStatus(
            Endpoint,
            Volatile.Read(ref _accepting) != 0 ? LocalEndpoint : null,
            snapshot.Config.Algorithm,
            Volatile.Read(ref _accepting) != 0,
            Volatile.Read(ref _openConnections),
            Volatile.Read(ref _acceptedConnections),
            snapshot.Persistence?.Count,
            snapshot.SorryServer is not null && !snapshot.HasLiveServer,
            servers,
            sorry,
            reasons.MoveToImmutable())
        {
            TrackedSources = _sources.Count,
            UntrackedSourceAdmissions = _sources.Untracked,
            Crashes = Crashes,
            ForwarderThreads = _loops.Count,
        };
    }

    private RealServerTrafficStatus Describe(
        string name, IPEndPoint endpoint, int weight, int? effectiveWeight, bool up, bool draining, ConnectionCounters counters, long maxConnections)
    {
        // The loops count bytes into per-loop cells as they move them: finished and live connections alike.
        return new RealServerTrafficStatus(name, endpoint, weight, effectiveWeight, up, draining, counters.Active, counters.Inactive,
            counters.Total, counters.BytesToServer, counters.BytesFromServer, counters.FailedConnects, maxConnections);
    }
}
