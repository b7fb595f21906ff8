using System.Collections.Immutable;
using System.Net;
using VipProxy.Config.Model;
using VipProxy.Forwarding.Scheduling;

namespace VipProxy.Forwarding.Runtime;

/// <summary>Control operations: health, reload, housekeeping. All serialise on the control lock and publish a new
/// <see cref="DispatchSnapshot"/>; none of them touches an established connection (a changed <c>idle_timeout</c>
/// re-arms their timers).</summary>
public sealed partial class VirtualServerRuntime
{
    /// <summary>
    /// Reports a real server's health. Down: it leaves the scheduler (or stays at weight 0 with
    /// <c>inhibit_on_failure</c>) and its persistence entries are dropped at once, so persistent clients move now
    /// rather than after <c>persistence_timeout</c>; its established connections continue. Up: it is scheduled again.
    /// </summary>
    /// <returns>False when no configured real server has that endpoint.</returns>
    public bool SetRealServerUp(IPEndPoint endpoint, bool up)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        lock (_control)
        {
            RealServerSlot? slot = _slots.Find(candidate => candidate.Config.Endpoint.Equals(endpoint));
            if (slot is null)
            {
                return false;
            }

            if (slot.Up == up)
            {
                // A health report of "up" ends a suspicion raised by a failed forwarder connect.
                if (up && slot.SuspectSince is not null)
                {
                    slot.ClearSuspect();
                    Publish(Config);
                    RescheduleSuspectTimer();
                    ForwardingLog.RealServerState(_logger, Endpoint, endpoint, "no longer suspect (health check reported it up)");
                }

                return true;
            }

            slot.Up = up;
            slot.ClearSuspect();
            if (!up)
            {
                _persistence?.DropServer(slot.Name);
            }

            Publish(Config);
            RescheduleSuspectTimer();
            ForwardingLog.RealServerState(_logger, Endpoint, endpoint, up ? "up" : slot.Config.InhibitOnFailure ? "down (inhibited, weight 0)" : "down");
            return true;
        }
    }

    /// <summary>
    /// Sets the weight a <c>misc_dynamic</c> checker reported (keepalived: exit code − 2) for new connections; 0 stops
    /// new connections to the server while it stays up. Established connections are not touched.
    /// </summary>
    /// <returns>False when no configured real server has that endpoint.</returns>
    public bool SetRealServerWeight(IPEndPoint endpoint, int weight)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        ArgumentOutOfRangeException.ThrowIfNegative(weight);
        lock (_control)
        {
            RealServerSlot? slot = _slots.Find(candidate => candidate.Config.Endpoint.Equals(endpoint));
            if (slot is null)
            {
                return false;
            }

            int? dynamicWeight = weight == slot.Config.Weight ? null : weight;
            if (slot.DynamicWeight != dynamicWeight)
            {
                slot.DynamicWeight = dynamicWeight;
                Publish(Config);
                ForwardingLog.RealServerState(_logger, Endpoint, endpoint, $"weight {weight} (set by misc_dynamic)");
            }

            return true;
        }
    }

    /// <summary>
    /// Applies a reloaded configuration of this virtual server in place: weights, limits, timeouts, algorithm,
    /// persistence and sorry server change for new connections at once; established connections continue (and keep
    /// counting against their source's <c>maxconn_per_source</c>; a changed rate period restarts a source's rate
    /// window). Real
    /// servers keep their health state and counters; new ones start up (down with <c>alpha</c>); removed ones drain:
    /// no new connections, their persistence entries are dropped, and they stay in the status until their last
    /// connection ends.
    /// </summary>
    /// <exception cref="ArgumentException">The listening address differs: that is a different virtual server.</exception>
    public void ApplyConfig(VirtualServer config)
    {
        ArgumentNullException.ThrowIfNull(config);
        if (!config.Endpoint.Equals(Endpoint))
        {
            throw new ArgumentException(
                $"A runtime for {Endpoint} cannot take the configuration of {config.Endpoint}; start a new runtime.", nameof(config));
        }

        bool idleChanged;
        lock (_control)
        {
            var previous = new Dictionary<string, RealServerSlot>(StringComparer.Ordinal);
            foreach (RealServerSlot slot in _slots.Concat(_draining))
            {
                previous[slot.Name] = slot;
            }

            var slots = new List<RealServerSlot>(config.RealServers.Count);
            foreach (RealServer server in config.RealServers)
            {
                string name = server.Endpoint.ToString();
                if (previous.Remove(name, out RealServerSlot? existing))
                {
                    existing.Config = server;
                    existing.Draining = false;
                    existing.DynamicWeight = null;
                    slots.Add(existing);
                }
                else
                {
                    slots.Add(new RealServerSlot(server, up: !config.Alpha));
                }
            }

            _draining.Clear();
            _persistence = CreatePersistenceTable(config, _persistence);
            foreach (RealServerSlot removed in previous.Values)
            {
                removed.Draining = true;
                _persistence?.DropServer(removed.Name);
                if (removed.Counters.Open > 0)
                {
                    _draining.Add(removed);
                }
            }

            _slots = slots;
            idleChanged = Config.IdleTimeout != config.IdleTimeout;
            Publish(config);
            ForwardingLog.ConfigApplied(_logger, Endpoint, _slots.Count, _draining.Count);
        }

        if (idleChanged)
        {
            RearmIdleTimers();
        }
    }

    /// <summary>Builds and publishes the snapshot. Caller holds the control lock (or is the constructor).</summary>
    private void Publish(VirtualServer config) => Volatile.Write(ref _snapshot, BuildSnapshot(config));

    private DispatchSnapshot BuildSnapshot(VirtualServer config)
    {
        var servers = ImmutableArray.CreateBuilder<RealServerSnapshot>(_slots.Count);
        bool live = false;

        // backup servers (HAProxy's backup) stand by while any non-backup server is up with weight above 0, and
        // are left out of the snapshot rather than kept at weight 0, so persistent clients of a backup return to the
        // primaries once one is back. Only health and weight decide: a primary that is merely full (maxconn) keeps
        // the backups out, since sending its overflow to a standby database would split the writes.
        bool primaryLive = false;
        foreach (RealServerSlot slot in _slots)
        {
            primaryLive |= !slot.Config.Backup && slot.EffectiveWeight > 0;
        }

        // Suspects are held down only while another live server of the serving tier can take their clients: a
        // client is never refused just because every server is suspect (they are then all tried, as before any
        // suspicion).
        bool liveNonSuspect = false;
        foreach (RealServerSlot slot in _slots)
        {
            slot.StandingBy = slot.Config.Backup && primaryLive;
            liveNonSuspect |= !slot.StandingBy && slot.SuspectSince is null && slot.EffectiveWeight > 0;
        }

        foreach (RealServerSlot slot in _slots)
        {
            slot.HeldDown = !slot.StandingBy && slot.SuspectSince is not null && liveNonSuspect;
            if (slot.ScheduledWeight is int weight)
            {
                servers.Add(slot.ToSnapshot(weight));
                live |= weight > 0;
            }
        }

        IScheduler scheduler = SchedulerFactory.Create(config.Algorithm, servers.ToImmutable());
        RealServerSnapshot? sorry = config.SorryServer is { } endpoint
            ? new RealServerSnapshot($"sorry {endpoint}", endpoint, 1, 0, _sorryCounters)
            : null;
        return new DispatchSnapshot(config, scheduler, _persistence, sorry, live);
    }

    /// <summary>Persistence and per-source sweeps and drained-server pruning, every
    /// <see cref="ForwarderOptions.HousekeepingPeriod"/>. Idle timeouts are not swept: each connection has its own
    /// timer on its loop's wheel.</summary>
    private void RescheduleHousekeeping()
    {
        if (Volatile.Read(ref _disposed) != 0)
        {
            return;
        }

        TimeSpan period = _options.HousekeepingPeriod;
        try
        {
            _housekeeping.Change(period, period);
        }
        catch (ObjectDisposedException)
        {
            // Disposed concurrently: nothing to schedule.
        }
    }

    /// <summary>Periodic, off the data path: sweeps expired persistence entries and per-source entries, forgets
    /// drained servers whose last connection ended.</summary>
    private void Housekeep()
    {
        if (Interlocked.Exchange(ref _housekeepingRunning, 1) != 0)
        {
            return;
        }

        try
        {
            Volatile.Read(ref _snapshot).Persistence?.Sweep();
            _sources.Sweep();
            lock (_control)
            {
                _draining.RemoveAll(slot => slot.Counters.Open == 0);
            }
        }
        finally
        {
            Volatile.Write(ref _housekeepingRunning, 0);
        }
    }

    private int _housekeepingRunning;
}
