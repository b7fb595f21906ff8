using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using VipProxy.Config.Model;
using VipProxy.Vrrp.Linux;
using VipProxy.Vrrp.Protocol;

namespace VipProxy.Vrrp.Runtime;

/// <summary>The kernel surfaces one instance acts through.</summary>
/// <param name="Socket">The VRRP socket of the instance's interface (shared with its other instances).</param>
/// <param name="Netlink">Adds and removes the VIPs.</param>
/// <param name="Arp">Gratuitous ARP on the instance's interface.</param>
/// <param name="HardwareAddress">The interface's MAC, the ARP sender address.</param>
/// <param name="InterfaceIndex">ifindex by name, for VIPs with their own <c>dev</c>; null when absent.</param>
/// <param name="MulticastGroup">Advert destination without unicast peers.</param>
/// <param name="TimeWait">Drops stale TIME_WAIT sockets on the VIPs once they are added.</param>
/// <param name="ArpOn">The gratuitous ARP sender and MAC of another interface, for VIPs with their own
/// <c>dev</c>; null when it has none (no such link).</param>
internal sealed record DriverPorts(
    IVrrpSocket Socket,
    INetlinkRoute Netlink,
    IGratuitousArpSender Arp,
    ReadOnlyMemory<byte> HardwareAddress,
    Func<string, int?> InterfaceIndex,
    IPAddress MulticastGroup,
    ITimeWaitReaper TimeWait,
    Func<string, ArpPort?> ArpOn);

/// <summary>Where gratuitous ARPs for the VIPs of one interface go out, and the MAC they announce.</summary>
internal sealed record ArpPort(IGratuitousArpSender Sender, ReadOnlyMemory<byte> HardwareAddress);

/// <summary>
/// Runs one instance's <see cref="VrrpStateMachine"/>: feeds it events (adverts, timer expiries, tracking changes,
/// start and stop) and executes the actions it returns, in order, through the adapters. The machine decides; this
/// class only does. Events are processed one at a time under a lock, through a queue so that an event raised while
/// executing actions (a timer due at once) runs after them, never inside them.
/// </summary>
internal sealed partial class VrrpInstanceDriver : IAsyncDisposable
{
    /// <summary>The tracker name of the forwarder's virtual-server health input.</summary>
    public const string ServiceHealthTracker = "virtual-servers";

    private readonly VrrpInstance _instance;
    private readonly DriverPorts _ports;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly VrrpStateMachine _machine;
    private readonly NotifyRunner _notify;
    private readonly Lock _gate = new();
    private readonly Queue<VrrpEvent> _pending = new();
    private readonly ITimer?[] _timers = new ITimer?[Enum.GetValues<VrrpTimer>().Length];
    private readonly HashSet<IPAddress> _held = [];

    // The dev, label and prefix of each address an action may name; the action's payload says which to act on.
    private readonly Dictionary<IPAddress, VirtualIpAddress> _lines = [];
    private CancellationTokenSource? _garpBurst;
    private bool _processing;
    private bool _disposed;

    public VrrpInstanceDriver(
        VrrpInstance instance,
        VrrpInstanceOptions options,
        DriverPorts ports,
        ScriptAccount? scriptUser,
        IScriptRunner scriptRunner,
        TimeProvider timeProvider,
        ILogger logger)
    {
        _instance = instance;
        _ports = ports;
        _timeProvider = timeProvider;
        _logger = logger;
        _machine = new VrrpStateMachine(options, timeProvider);
        _notify = new NotifyRunner(instance.Name, instance.Notify, scriptUser, scriptRunner, logger);
        foreach (var line in instance.AllVirtualIpAddresses())
        {
            _lines.TryAdd(line.Address, line);
        }
    }

    public VrrpInstance Instance => _instance;

    public VrrpInstanceOptions Options => _machine.Options;

    public VrrpState State
    {
        get
        {
            lock (_gate)
            {
                return _machine.State;
            }
        }
    }

    /// <summary>RFC 5798 §6.4.1 Startup. Feed the initial tracking reports first so a down interface starts in Fault.</summary>
    public void Start() => Post(new Startup());

    /// <summary>RFC 5798 §6.4.2/§6.4.3 Shutdown: a master sends priority 0 and removes its VIPs; notify_stop is queued.</summary>
    public void Shutdown() => Post(new Shutdown());

    /// <summary>A tracked item's current contribution (interface, script, virtual-server health).</summary>
    public void OnTracked(string tracker, bool faulted, int priorityDelta) =>
        Post(new TrackedStateChanged(tracker, faulted, priorityDelta));

    /// <summary>The forwarder's report: false ⇒ Fault while <c>TrackVirtualServers</c>; true leaves it.</summary>
    public void SetServiceHealth(bool healthy) =>
        OnTracked(ServiceHealthTracker, _instance.TrackVirtualServers && !healthy, 0);

    /// <summary>The operator's demote (true) or resume (false): an event into the state machine like any other.</summary>
    public void SetDemoted(bool demoted) => Post(demoted ? new OperatorDemoted() : (VrrpEvent)new OperatorResumed());

    /// <summary>A structurally valid advert with this instance's VRID, decoded once by the socket's reader.</summary>
    public void OnAdvertisement(ReceivedAdvertisement advertisement)
    {
        var verdict = VrrpAdvertisementValidator.Validate(advertisement, _machine.Options);
        if (!verdict.IsAccepted)
        {
            LogDropped(_logger, _instance.Name, advertisement.Source, verdict.DropReason);
        }
        else if (verdict.Notes != AdvertisementNotes.None)
        {
            LogNotes(_logger, _instance.Name, advertisement.Source, verdict.Notes);
        }

        Post(new PacketReceived(verdict));
    }

    /// <summary>Waits for queued notify scripts (notify_stop included), bounded by the token, then releases timers.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        Shutdown();
        await _notify.DrainAsync(cancellationToken).ConfigureAwait(false);
        await DisposeAsync().ConfigureAwait(false);
    }

    public VrrpInstanceStatus GetStatus(IReadOnlyDictionary<string, long> socketCounters)
    {
        lock (_gate)
        {
            var counters = _machine.Counters;
            var drops = new Dictionary<string, long>(StringComparer.Ordinal);
            foreach (var reason in Enum.GetValues<DropReason>())
            {
                long count = counters.GetDropped(reason);
                if (reason != DropReason.None && count > 0)
                {
                    drops[reason.ToString()] = count;
                }
            }

            foreach (var (name, count) in socketCounters)
            {
                drops["socket." + name] = count;
            }

            return new VrrpInstanceStatus(
                _instance.Name,
                _instance.Interface,
                _instance.VirtualRouterId,
                (int)_machine.Options.Version,
                StateWords.Of(_machine.State),
                _instance.Priority,
                _machine.EffectivePriority,
                _machine.MasterAddress?.ToString(),
                [.. _held.Select(a => a.ToString()).Order(StringComparer.Ordinal)],
                counters.Transitions,
                counters.AdvertisementsSent,
                counters.AdvertisementsReceived,
                drops)
            {
                Demoted = _machine.IsDemoted,
            };
        }
    }

    public async ValueTask DisposeAsync()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            for (int i = 0; i < _timers.Length; i++)
            {
                _timers[i]?.Dispose();
                _timers[i] = null;
            }

            _garpBurst?.Cancel();
            _garpBurst?.Dispose();
            _garpBurst = null;
        }

        await _notify.DisposeAsync().ConfigureAwait(false);
    }

    private void Post(VrrpEvent vrrpEvent)
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _pending.Enqueue(vrrpEvent);
            if (_processing)
            {
                return; // raised from inside an action (e.g. a timer due now): runs after the current event
            }

            _processing = true;
            try
            {
                while (_pending.TryDequeue(out var next))
                {
                    var before = _machine.State;
                    long answeredBefore = _machine.Counters.LowerPriorityAnswered;
                    var actions = _machine.Handle(next);
                    if (_machine.State != before)
                    {
                        LogTransition(_logger, _instance.Name, StateWords.Of(before), StateWords.Of(_machine.State), _machine.EffectivePriority);
                    }

                    if (_machine.Counters.LowerPriorityAnswered != answeredBefore && next is PacketReceived { Verdict.Advertisement: { } heard })
                    {
                        // keepalived logs the same: two masters at once is worth an operator's attention.
                        LogLowerPriorityMaster(_logger, _instance.Name, heard.Source, heard.Packet.Priority, _machine.EffectivePriority,
                            _machine.Options.EffectiveGarpLowerPriorityRepeat);
                    }

                    foreach (var action in actions)
                    {
                        Execute(action);
                    }

                    if (_machine.State != VrrpState.Master && _garpBurst is not null)
                    {
                        _garpBurst.Cancel();
                        _garpBurst.Dispose();
                        _garpBurst = null;
                    }
                }
            }
            finally
            {
                _processing = false;
            }
        }
    }

    private void Execute(VrrpAction action)
    {
        switch (action)
        {
            case SendAdvertisement send:
                SendAdvert(send.Priority);
                break;
            case AddVirtualAddresses add:
                AddAddresses(add.Addresses);
                break;
            case RemoveVirtualAddresses remove:
                RemoveAddresses(remove.Addresses);
                break;
            case SendGratuitousArps garp:
                SendGarps(garp.Addresses, garp.Repeat, garp.Interval);
                break;
            case ArmTimer arm:
                ArmTimer(arm.Timer, arm.Deadline);
                break;
            case CancelTimer cancel:
                _timers[(int)cancel.Timer]?.Dispose();
                _timers[(int)cancel.Timer] = null;
                break;
            case RunNotify notify:
                _notify.Enqueue(notify.State, notify.Priority);
                break;
            default:
                throw new InvalidOperationException("Unknown action " + action.GetType().Name);
        }
    }

    private void SendAdvert(byte priority)
    {
        var options = _machine.Options;
        var packet = VrrpPacket.ForInstance(options, priority);
        IReadOnlyList<IPAddress> destinations = options.UnicastPeers.Count > 0 ? options.UnicastPeers : [_ports.MulticastGroup];
        foreach (var destination in destinations)
        {
            // unicast_peer: one copy per peer, IP destination = the peer (the v3 checksum covers it).
            var datagram = VrrpCodec.EncodeIPv4DatagramToArray(packet, options.PrimaryAddress, destination);
            try
            {
                _ports.Socket.Send(datagram, destination);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                // A down link refuses sends (ENETDOWN); the election carries on and the next advert retries.
                LogSendFailed(_logger, _instance.Name, destination, e.Message);
            }
        }
    }

    private int? IndexOf(VirtualIpAddress address) => _ports.InterfaceIndex(address.Device ?? _instance.Interface);

    /// <summary>The config line of each payload address; one the instance does not list is logged and skipped.</summary>
    private List<VirtualIpAddress> LinesOf(IReadOnlyList<IPAddress> addresses)
    {
        var lines = new List<VirtualIpAddress>(addresses.Count);
        foreach (var address in addresses)
        {
            if (_lines.TryGetValue(address, out var line))
            {
                lines.Add(line);
            }
            else
            {
                LogUnknownAddress(_logger, _instance.Name, address);
            }
        }

        return lines;
    }

    private void AddAddresses(IReadOnlyList<IPAddress> addresses)
    {
        foreach (var address in LinesOf(addresses))
        {
            try
            {
                if (IndexOf(address) is not { } index)
                {
                    LogNoInterface(_logger, _instance.Name, address.ToString());
                    continue;
                }

                _ports.Netlink.AddAddress(index, OptionsMapper.ToAddressRequest(address));
                _held.Add(address.Address);
                LogAddress(_logger, _instance.Name, "added", address.ToString());
            }
            catch (SocketException e)
            {
                LogAddressFailed(_logger, _instance.Name, "add", address.ToString(), e.Message);
            }
        }

        DropStaleTimeWait(addresses);
    }

    /// <summary>
    /// Before the gratuitous ARPs bring the clients here: TIME_WAIT sockets this node kept on the VIPs from an
    /// earlier mastership belong to connections it no longer owns, and would answer a client that reuses those
    /// ports with ACKs instead of a reset, hanging it for up to 60 s (see <see cref="ITimeWaitReaper"/>).
    /// </summary>
    private void DropStaleTimeWait(IReadOnlyList<IPAddress> addresses)
    {
        try
        {
            int dropped = _ports.TimeWait.DestroyTimeWait([.. addresses]);
            if (dropped > 0)
            {
                LogTimeWaitDropped(_logger, _instance.Name, dropped);
            }
        }
        catch (SocketException e)
        {
            LogTimeWaitFailed(_logger, _instance.Name, e.Message);
        }
    }

    private void RemoveAddresses(IReadOnlyList<IPAddress> addresses)
    {
        foreach (var address in LinesOf(addresses))
        {
            try
            {
                if (IndexOf(address) is { } index && _ports.Netlink.RemoveAddress(index, address.Address, address.PrefixLength))
                {
                    LogAddress(_logger, _instance.Name, "removed", address.ToString());
                }

                _held.Remove(address.Address);
            }
            catch (SocketException e)
            {
                LogAddressFailed(_logger, _instance.Name, "remove", address.ToString(), e.Message);
            }
        }
    }

    /// <summary>
    /// keepalived's burst: <paramref name="repeat"/> ARPs per payload address, each on its VIP's interface, <paramref name="interval"/>
    /// (garp_interval) apart; a burst still running stops when the instance leaves Master.
    /// </summary>
    private void SendGarps(IReadOnlyList<IPAddress> addresses, int repeat, TimeSpan interval)
    {
        // keepalived announces each VIP on its own interface: a VIP with "dev eth1" (say, the real servers'
        // gateway) needs its neighbours on eth1 to learn the new MAC as much as the clients on the VRRP interface.
        var announcements = new List<(IPAddress Address, ArpPort Port)>();
        foreach (var address in LinesOf(addresses))
        {
            string device = address.Device ?? _instance.Interface;
            ArpPort? port = device == _instance.Interface ? new ArpPort(_ports.Arp, _ports.HardwareAddress) : _ports.ArpOn(device);
            if (port is not null && port.HardwareAddress.Length == 6)
            {
                announcements.Add((address.Address, port));
            }
        }

        if (announcements.Count == 0 || repeat <= 0)
        {
            return;
        }

        if (interval <= TimeSpan.Zero)
        {
            for (int i = 0; i < repeat; i++)
            {
                SendGarpRound(announcements);
            }

            return;
        }

        _garpBurst ??= new CancellationTokenSource();
        var token = _garpBurst.Token;
        SendGarpRound(announcements);
        _ = Task.Run(async () =>
        {
            for (int i = 1; i < repeat; i++)
            {
                await Task.Delay(interval, _timeProvider, token).ConfigureAwait(false);
                lock (_gate)
                {
                    if (token.IsCancellationRequested)
                    {
                        return;
                    }

                    SendGarpRound(announcements);
                }
            }
        }, token);
    }

    private void SendGarpRound(List<(IPAddress Address, ArpPort Port)> announcements)
    {
        foreach (var (address, port) in announcements)
        {
            try
            {
                port.Sender.Send(address, port.HardwareAddress.Span);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                LogSendFailed(_logger, _instance.Name, address, "gratuitous ARP: " + e.Message);
            }
        }
    }

    private void ArmTimer(VrrpTimer timer, TimeSpan deadline)
    {
        _timers[(int)timer]?.Dispose();
        var delay = VrrpTiming.DelayUntil(_timeProvider, deadline);
        _timers[(int)timer] = _timeProvider.CreateTimer(
            static state =>
            {
                var (driver, timer, deadline) = ((VrrpInstanceDriver, VrrpTimer, TimeSpan))state!;
                driver.Post(new TimerExpired(timer, deadline));
            },
            (this, timer, deadline),
            delay,
            Timeout.InfiniteTimeSpan);
    }

    [LoggerMessage(EventId = 710, Level = LogLevel.Information, Message = "({Instance}) {From} -> {To} (effective priority {Priority})")]
    private static partial void LogTransition(ILogger logger, string instance, string from, string to, byte priority);

    [LoggerMessage(EventId = 711, Level = LogLevel.Debug, Message = "({Instance}) advert from {Source} dropped: {Reason}")]
    private static partial void LogDropped(ILogger logger, string instance, IPAddress source, DropReason reason);

    [LoggerMessage(EventId = 712, Level = LogLevel.Debug, Message = "({Instance}) advert from {Source} accepted with notes: {Notes}")]
    private static partial void LogNotes(ILogger logger, string instance, IPAddress source, AdvertisementNotes notes);

    [LoggerMessage(EventId = 713, Level = LogLevel.Warning, Message = "({Instance}) send to {Destination} failed: {Reason}")]
    private static partial void LogSendFailed(ILogger logger, string instance, IPAddress destination, string reason);

    [LoggerMessage(EventId = 714, Level = LogLevel.Information, Message = "({Instance}) VIP {Address} {Verb}")]
    private static partial void LogAddress(ILogger logger, string instance, string verb, string address);

    [LoggerMessage(EventId = 715, Level = LogLevel.Error, Message = "({Instance}) could not {Verb} VIP {Address}: {Reason}")]
    private static partial void LogAddressFailed(ILogger logger, string instance, string verb, string address, string reason);

    [LoggerMessage(EventId = 717, Level = LogLevel.Warning, Message = "({Instance}) advert from {Source} with lower priority {Priority} while master (ours {Ours}): re-advertising and sending {Repeat} gratuitous ARP(s) per VIP")]
    private static partial void LogLowerPriorityMaster(ILogger logger, string instance, IPAddress source, byte priority, byte ours, int repeat);

    [LoggerMessage(EventId = 718, Level = LogLevel.Information, Message = "({Instance}) dropped {Count} TIME_WAIT socket(s) left on the VIPs from an earlier mastership")]
    private static partial void LogTimeWaitDropped(ILogger logger, string instance, int count);

    [LoggerMessage(EventId = 719, Level = LogLevel.Warning, Message = "({Instance}) could not drop TIME_WAIT sockets on the VIPs (kernel without CONFIG_INET_DIAG_DESTROY?): {Reason}; a client that reuses their ports may wait up to 60 s")]
    private static partial void LogTimeWaitFailed(ILogger logger, string instance, string reason);

    [LoggerMessage(EventId = 720, Level = LogLevel.Error, Message = "({Instance}) VIP {Address} is in no virtual_ipaddress list of the instance")]
    private static partial void LogUnknownAddress(ILogger logger, string instance, IPAddress address);

    [LoggerMessage(EventId = 716, Level = LogLevel.Error, Message = "({Instance}) VIP {Address}: no such interface")]
    private static partial void LogNoInterface(ILogger logger, string instance, string address);
}
