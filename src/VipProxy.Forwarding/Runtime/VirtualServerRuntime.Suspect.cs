using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using VipProxy.Config.Model;
using VipProxy.Forwarding.Scheduling;

namespace VipProxy.Forwarding.Runtime;

/// <summary>
/// Suspect hold-down: a failed forwarder connect takes the real server out of new picks at once, instead of letting
/// every new client pay <c>proxy_connect_timeout</c> against it until the health checker marks it down.
/// </summary>
/// <remarks>
/// <para>The failure path takes the control lock (once per failed connect; never on a successful dispatch) and
/// publishes a new <see cref="DispatchSnapshot"/> without the server, so picks stay lock-free. The suspicion ends at
/// the first of: the health checker reporting the server up (<see cref="SetRealServerUp"/> with true, even when it
/// was already up), the hold-down expiring (a <see cref="TimeProvider"/> timer), or the server going down or being
/// removed (health state takes over).</para>
/// <para>While suspect, its persistence entries are gone (dropped when it became suspect), so sticky clients are
/// re-scheduled rather than sent back when the hold-down ends. If every live server is suspect, all of them are
/// scheduled again: suspicion only ever moves clients to a better server, it never refuses one.</para>
/// <para>One warning per server per hold-down; further failures while suspect are logged at Debug.</para>
/// </remarks>
public sealed partial class VirtualServerRuntime
{
    /// <summary>The hold-down applied to a server of <paramref name="config"/>: min(<c>delay_loop</c>,
    /// <see cref="ForwarderOptions.SuspectHoldDown"/>); zero or less means suspicion is off.</summary>
    internal TimeSpan HoldDownFor(VirtualServer config)
    {
        TimeSpan limit = _options.SuspectHoldDown;
        TimeSpan delayLoop = config.DelayLoop > TimeSpan.Zero ? config.DelayLoop : limit;
        return delayLoop < limit ? delayLoop : limit;
    }

    /// <summary>After a failed connect to <paramref name="server"/>: marks it suspect (unless it already is, or it
    /// is not a live configured real server) and logs once per hold-down.</summary>
    internal void OnConnectFailed(RealServerSnapshot server, SocketError error, bool redispatching)
    {
        TimeSpan holdDown = HoldDownFor(Config);
        if (holdDown <= TimeSpan.Zero)
        {
            ForwardingLog.ConnectAttemptFailed(_logger, LogLevel.Warning, Endpoint, server.Endpoint, error, redispatching);
            return;
        }

        bool marked = false;
        bool known = false;
        lock (_control)
        {
            RealServerSlot? slot = FindSlot(server.Name);
            if (slot is not null && slot.Up && !slot.Draining)
            {
                known = true;
                if (slot.SuspectSince is null)
                {
                    slot.SuspectSince = _timeProvider.GetTimestamp();
                    slot.SuspectHoldDown = holdDown;
                    _persistence?.DropServer(slot.Name);
                    Publish(Config);
                    RescheduleSuspectTimer();
                    marked = true;
                }
            }
        }

        if (marked)
        {
            ForwardingLog.RealServerSuspect(_logger, Endpoint, server.Endpoint, error, (long)holdDown.TotalMilliseconds, redispatching);
        }
        else
        {
            // Already suspect (an in-flight connect, or every server is suspect and this one was tried anyway): the
            // warning for this hold-down was logged. A sorry server or a removed one is not held down: warn each time.
            ForwardingLog.ConnectAttemptFailed(_logger, known ? LogLevel.Debug : LogLevel.Warning, Endpoint, server.Endpoint, error, redispatching);
        }
    }

    /// <summary>Timer callback: ends expired hold-downs and publishes the servers again.</summary>
    private void ExpireSuspects()
    {
        List<IPEndPoint>? expired = null;
        lock (_control)
        {
            if (Volatile.Read(ref _disposed) != 0)
            {
                return;
            }

            long now = _timeProvider.GetTimestamp();
            foreach (RealServerSlot slot in _slots)
            {
                if (slot.SuspectSince is { } since && Remaining(slot, since, now) <= TimeSpan.Zero)
                {
                    slot.ClearSuspect();
                    (expired ??= []).Add(slot.Config.Endpoint);
                }
            }

            if (expired is not null)
            {
                Publish(Config);
            }

            RescheduleSuspectTimer();
        }

        foreach (IPEndPoint endpoint in expired ?? [])
        {
            ForwardingLog.RealServerState(_logger, Endpoint, endpoint, "no longer suspect (hold-down expired)");
        }
    }

    /// <summary>Arms the timer for the earliest hold-down end. Caller holds the control lock.</summary>
    private void RescheduleSuspectTimer()
    {
        long now = _timeProvider.GetTimestamp();
        TimeSpan? next = null;
        foreach (RealServerSlot slot in _slots)
        {
            if (slot.SuspectSince is { } since)
            {
                TimeSpan remaining = Remaining(slot, since, now);
                remaining = remaining < TimeSpan.Zero ? TimeSpan.Zero : remaining;
                next = next is { } current && current <= remaining ? current : remaining;
            }
        }

        try
        {
            _suspectTimer.Change(next ?? Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        }
        catch (ObjectDisposedException)
        {
            // Disposed concurrently: nothing to expire any more.
        }
    }

    private TimeSpan Remaining(RealServerSlot slot, long since, long now) =>
        slot.SuspectHoldDown - _timeProvider.GetElapsedTime(since, now);

    private RealServerSlot? FindSlot(string name)
    {
        foreach (RealServerSlot slot in _slots)
        {
            if (string.Equals(slot.Name, name, StringComparison.Ordinal))
            {
                return slot;
            }
        }

        return null;
    }
}
