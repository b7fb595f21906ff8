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
                SuspectRemaining = slot.SuspectSince is { } since ? Remaining(slot, since, now) : null,
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
            _listener.IsAccepting ? _listener.LocalEndpoint : null,
            snapshot.Config.Algorithm,
            _listener.IsAccepting,
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
        };
    }

    /// <summary>The live connections (for <c>vipproxy status --connections</c> and tests).</summary>
    public IReadOnlyList<ConnectionStatus> GetConnections()
    {
        long now = Environment.TickCount64;
        return [.. _connections.Values.OrderBy(connection => connection.Id).Select(connection => new ConnectionStatus(
            connection.Id,
            connection.ClientEndpoint,
            connection.RealServerEndpoint,
            connection.BytesFromClient,
            connection.BytesToServer,
            connection.BytesFromServer,
            connection.BytesToClient,
            connection.BufferedBytes,
            TimeSpan.FromMilliseconds(now - connection.StartedTick),
            TimeSpan.FromMilliseconds(now - connection.LastActivityTick),
            connection.IsHalfClosed))];
    }

    private RealServerTrafficStatus Describe(
        string name, IPEndPoint endpoint, int weight, int? effectiveWeight, bool up, bool draining, ConnectionCounters counters, long maxConnections)
    {
        // Finished connections are in the counters; live ones are added from their own per-connection counters.
        long toServer = counters.BytesToServer;
        long fromServer = counters.BytesFromServer;
        foreach (KeyValuePair<long, ProxiedConnection> pair in _connections)
        {
            if (endpoint.Equals(pair.Value.RealServerEndpoint))
            {
                toServer += pair.Value.BytesToServer;
                fromServer += pair.Value.BytesFromServer;
            }
        }

        return new RealServerTrafficStatus(name, endpoint, weight, effectiveWeight, up, draining, counters.Active, counters.Inactive,
            counters.Total, toServer, fromServer, counters.FailedConnects, maxConnections);
    }
}
