using System.Net;
using Microsoft.Extensions.Logging;
using VipProxy.Config.Model;
using VipProxy.Vrrp.Linux;
using VipProxy.Vrrp.Runtime;

namespace VipProxy.Vrrp;

/// <summary>
/// Runs a configuration's <c>vrrp_instance</c>s on this host: the entry point of the daemon. Each instance gets a
/// <see cref="VrrpInstanceDriver"/> around the pure state machine; instances on one interface share its VRRP socket and
/// ARP sender; link state comes from one netlink watcher; each <c>vrrp_script</c> runs once for all its instances.
/// </summary>
public sealed partial class VrrpService : IAsyncDisposable
{
    /// <summary>How long <see cref="DisposeAsync"/> (without a token) lets notify_stop scripts run.</summary>
    private static readonly TimeSpan DisposeStopTimeout = TimeSpan.FromSeconds(15);

    private readonly ILoggerFactory _loggerFactory;
    private readonly TimeProvider _timeProvider;
    private readonly IVrrpAdapterFactory _adapters;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly Lock _stateGate = new();
    private readonly Dictionary<string, InstanceEntry> _instances = new(StringComparer.Ordinal);
    private readonly Dictionary<string, InterfaceHub> _hubs = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ScriptTracker> _scripts = new(StringComparer.Ordinal);
    private readonly Dictionary<string, LinkState> _links = new(StringComparer.Ordinal);
    private readonly Dictionary<string, bool> _serviceHealth = new(StringComparer.Ordinal);
    private readonly HashSet<string> _demoted = new(StringComparer.Ordinal);
    private KeepalivedConfig _config;
    private INetlinkRoute? _netlink;
    private ITimeWaitReaper? _timeWait;
    private readonly Dictionary<string, ArpPort> _otherArpPorts = new(StringComparer.Ordinal);
    private ILinkWatcher? _linkWatcher;
    private CancellationTokenSource? _linkWatch;
    private Task? _linkWatchLoop;
    private bool _started;
    private bool _stopped;
    private bool _disposed;

    /// <summary>A service on the given adapters: <see cref="LinuxVrrpAdapters"/> with the daemon's script runner, or
    /// fakes in tests.</summary>
    public VrrpService(KeepalivedConfig config, ILoggerFactory loggerFactory, TimeProvider timeProvider, IVrrpAdapterFactory adapters)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(loggerFactory);
        ArgumentNullException.ThrowIfNull(timeProvider);
        ArgumentNullException.ThrowIfNull(adapters);
        _config = config;
        _loggerFactory = loggerFactory;
        _timeProvider = timeProvider;
        _adapters = adapters;
        _logger = loggerFactory.CreateLogger("vipproxy.vrrp");
    }

    /// <summary>
    /// Opens netlink, reads the links, and starts every instance. A non-owner instance first removes its VIPs (a
    /// killed process may have left them), then waits Master_Down_Interval as backup (RFC 5798 §6.4.1).
    /// An instance that cannot start (missing interface, no IPv4 address) is logged and reported as ERROR.
    /// </summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_started)
            {
                throw new InvalidOperationException("The VRRP service was already started.");
            }

            _started = true;
            _netlink = _adapters.OpenNetlink();
            _timeWait = _adapters.OpenTimeWaitReaper();

            // Watch first, then read: a change between the two is then seen twice rather than never.
            _linkWatcher = _netlink.WatchLinks();
            RefreshLinks();
            _linkWatch = new CancellationTokenSource();
            _linkWatchLoop = Task.Run(() => WatchLinksAsync(_linkWatch.Token), CancellationToken.None);
            foreach (var instance in _config.VrrpInstances)
            {
                StartInstance(instance, _config);
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// Stops every instance as on shutdown: a master sends priority 0 (the backup takes over after Skew_Time,
    /// RFC 5798 §6.4.3) and removes its VIPs; notify_stop runs (waited for until <paramref name="cancellationToken"/>).
    /// </summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(CancellationToken.None).ConfigureAwait(false);
        try
        {
            if (!_started || _stopped)
            {
                return;
            }

            _stopped = true;
            List<InstanceEntry> entries;
            lock (_stateGate)
            {
                entries = [.. _instances.Values];
            }

            await Task.WhenAll(entries.Select(e => StopInstanceAsync(e, cancellationToken))).ConfigureAwait(false);
            if (_linkWatch is not null)
            {
                await _linkWatch.CancelAsync().ConfigureAwait(false);
            }

            _linkWatcher?.Dispose();
            if (_linkWatchLoop is not null)
            {
                await _linkWatchLoop.ConfigureAwait(false);
            }

            _linkWatch?.Dispose();
            _netlink?.Dispose();
            (_timeWait as IDisposable)?.Dispose();
            foreach (var port in _otherArpPorts.Values)
            {
                port.Sender.Dispose();
            }

            _otherArpPorts.Clear();
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// The forwarder's report for <paramref name="instanceName"/>: false when a virtual server on its VIPs lost its
    /// quorum ⇒ Fault (only while the instance's <c>TrackVirtualServers</c> is on), so the VIP moves to a node that
    /// can serve; true leaves Fault (unless something else keeps it there).
    /// </summary>
    public void SetServiceHealth(string instanceName, bool healthy)
    {
        ArgumentNullException.ThrowIfNull(instanceName);
        InstanceEntry? entry;
        lock (_stateGate)
        {
            _serviceHealth[instanceName] = healthy;
            _instances.TryGetValue(instanceName, out entry);
        }

        entry?.Driver?.SetServiceHealth(healthy);
    }

    /// <summary>
    /// The operator's demote (true) or resume (false) of <paramref name="instanceName"/>. Remembered across the
    /// instance's restarts (a reload that changes it), like the service health.
    /// </summary>
    /// <returns>False when the configuration has no such instance (nothing changed).</returns>
    public bool SetDemoted(string instanceName, bool demoted)
    {
        ArgumentNullException.ThrowIfNull(instanceName);
        InstanceEntry? entry;
        lock (_stateGate)
        {
            if (!_config.VrrpInstances.Any(i => i.Name == instanceName))
            {
                return false;
            }

            if (demoted)
            {
                _demoted.Add(instanceName);
            }
            else
            {
                _demoted.Remove(instanceName);
            }

            _instances.TryGetValue(instanceName, out entry);
        }

        entry?.Driver?.SetDemoted(demoted);
        return true;
    }

    /// <summary>The names of the configured instances, in configuration order.</summary>
    public IReadOnlyList<string> InstanceNames
    {
        get
        {
            lock (_stateGate)
            {
                return [.. _config.VrrpInstances.Select(i => i.Name)];
            }
        }
    }

    /// <summary>A snapshot of every instance, in configuration order.</summary>
    public IReadOnlyList<VrrpInstanceStatus> GetStatus()
    {
        List<InstanceEntry> entries;
        lock (_stateGate)
        {
            entries = [.. _instances.Values.OrderBy(e => e.Order)];
        }

        return [.. entries.Select(e => e.Driver is { } driver
            ? driver.GetStatus(e.Hub?.Counters ?? new Dictionary<string, long>())
            : new VrrpInstanceStatus(e.Instance.Name, e.Instance.Interface, e.Instance.VirtualRouterId, e.Instance.Version,
                "ERROR", e.Instance.Priority, e.Instance.Priority, null, [], 0, 0, 0, new Dictionary<string, long>()))];
    }

    /// <summary>
    /// Reload: an instance whose model record (and everything it depends on: its scripts, the multicast group,
    /// the script user) is equal keeps running untouched, VIPs and all; a changed one stops as on shutdown and
    /// starts with the new settings; a removed one stops; a new one starts.
    /// </summary>
    public async Task ApplyConfigAsync(KeepalivedConfig newConfig, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(newConfig);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var oldConfig = _config;
            _config = newConfig;
            if (!_started || _stopped)
            {
                return;
            }

            var wanted = newConfig.VrrpInstances.ToDictionary(i => i.Name, StringComparer.Ordinal);
            List<InstanceEntry> current;
            lock (_stateGate)
            {
                current = [.. _instances.Values];
            }

            var toStop = current
                .Where(e => !wanted.TryGetValue(e.Instance.Name, out var next) || !Equals(e.Key, KeyOf(next, newConfig)))
                .ToList();
            await Task.WhenAll(toStop.Select(e => StopInstanceAsync(e, cancellationToken))).ConfigureAwait(false);
            ReleaseUnusedArpPorts(newConfig);
            int order = 0;
            foreach (var instance in newConfig.VrrpInstances)
            {
                InstanceEntry? entry;
                lock (_stateGate)
                {
                    _instances.TryGetValue(instance.Name, out entry);
                }

                if (entry is null)
                {
                    StartInstance(instance, newConfig);
                }

                lock (_stateGate)
                {
                    if (_instances.TryGetValue(instance.Name, out var kept))
                    {
                        kept.Order = order;
                    }
                }

                order++;
            }

            LogReloaded(_logger, toStop.Count, current.Count - toStop.Count, oldConfig.VrrpInstances.Count, newConfig.VrrpInstances.Count);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>The instance of the current configuration whose <c>virtual_ipaddress</c> (or excluded) list holds <paramref name="address"/>.</summary>
    public string? InstanceForAddress(IPAddress address) => InstanceForAddress(_config, address);

    /// <summary>The instance of <paramref name="config"/> holding <paramref name="address"/>, or null.</summary>
    public static string? InstanceForAddress(KeepalivedConfig config, IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(address);
        return config.VrrpInstances.FirstOrDefault(i => i.AllVirtualIpAddresses().Any(v => v.Address.Equals(address)))?.Name;
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        using var timeout = new CancellationTokenSource(DisposeStopTimeout);
        await StopAsync(timeout.Token).ConfigureAwait(false);
        _gate.Dispose();
    }

    private static InstanceKey KeyOf(VrrpInstance instance, KeepalivedConfig config) => new(
        instance,
        ValueList.From(instance.TrackScripts.Select(t => config.VrrpScripts.FirstOrDefault(s => s.Name == t.Name))),
        config.Global.MulticastGroup,
        config.Global.ScriptUser);

    private void RefreshLinks()
    {
        var links = _netlink!.GetLinks();
        lock (_stateGate)
        {
            _links.Clear();
            foreach (var link in links)
            {
                _links[link.Name] = link;
            }
        }
    }

    private int? InterfaceIndex(string name)
    {
        lock (_stateGate)
        {
            return _links.TryGetValue(name, out var link) && link.Index > 0 ? link.Index : null;
        }
    }

    private void StartInstance(VrrpInstance instance, KeepalivedConfig config)
    {
        var key = KeyOf(instance, config);
        var logger = _loggerFactory.CreateLogger("vipproxy.vrrp." + instance.Name);
        var entry = new InstanceEntry(instance, key) { Order = config.VrrpInstances.ToList().IndexOf(instance) };
        try
        {
            LinkState? link;
            lock (_stateGate)
            {
                _links.TryGetValue(instance.Interface, out link);
            }

            if (link is null)
            {
                throw new InvalidOperationException($"interface {instance.Interface} does not exist");
            }

            var primary = instance.UnicastSourceIp ?? PrimaryAddress(link.Index, config)
                ?? throw new InvalidOperationException($"interface {instance.Interface} has no IPv4 address");
            var options = OptionsMapper.Map(instance, config.Global, primary);
            options.EnsureValid();
            var hub = GetOrCreateHub(link, primary, config.Global.MulticastGroup);
            OpenArpPortsForOtherDevices(instance);
            var ports = new DriverPorts(hub.Socket, _netlink!, hub.Arp, hub.HardwareAddress, InterfaceIndex, config.Global.MulticastGroup, _timeWait!, ArpOn);
            var driver = new VrrpInstanceDriver(instance, options, ports, config.Global.ScriptUser, _adapters.ScriptRunner, _timeProvider, logger);
            entry.Driver = driver;
            entry.Hub = hub;

            // Tracking reports go in before Startup, so an instance whose link is down starts in Fault.
            foreach (var (name, weight) in TrackedInterfaces(instance))
            {
                bool up;
                lock (_stateGate)
                {
                    up = _links.TryGetValue(name, out var tracked) && tracked.IsUp;
                }

                var (faulted, delta) = TrackingRules.Contribution(up, weight, reverse: false);
                driver.OnTracked("interface:" + name, faulted, delta);
            }

            foreach (var tracked in instance.TrackScripts)
            {
                var script = config.VrrpScripts.FirstOrDefault(s => s.Name == tracked.Name);
                if (script is null)
                {
                    LogUnknownScript(logger, instance.Name, tracked.Name);
                    continue;
                }

                var tracker = GetOrCreateScript(script, config.Global);
                int weight = tracked.Weight ?? script.Weight;
                Action<bool> onChange = up =>
                {
                    var (faulted, delta) = TrackingRules.Contribution(up, weight, script.WeightReverse);
                    driver.OnTracked("script:" + script.Name, faulted, delta);
                };
                entry.ScriptSubscriptions.Add((tracker, onChange));
                onChange(tracker.Subscribe(onChange));
            }

            bool healthy;
            lock (_stateGate)
            {
                healthy = !_serviceHealth.TryGetValue(instance.Name, out var reported) || reported;
            }

            if (!healthy)
            {
                driver.SetServiceHealth(false);
            }

            bool demoted;
            lock (_stateGate)
            {
                demoted = _demoted.Contains(instance.Name);
            }

            // Before Startup, so a demoted address owner never takes the role for a moment (restart, reload).
            if (demoted)
            {
                driver.SetDemoted(true);
            }

            lock (_stateGate)
            {
                _instances[instance.Name] = entry;
            }

            hub.Add(driver);
            driver.Start();
            foreach (var (tracker, _) in entry.ScriptSubscriptions)
            {
                tracker.Start();
            }

            LogStarted(logger, instance.Name, instance.Interface, primary, instance.VirtualRouterId, (int)options.Version, instance.Priority);
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException or System.Net.Sockets.SocketException or OverflowException)
        {
            LogStartFailed(logger, e, instance.Name);
            lock (_stateGate)
            {
                _instances[instance.Name] = entry;
            }
        }
    }

    /// <summary>
    /// The instance's own interface (weight 0: down ⇒ Fault) unless <c>dont_track_primary</c>, then <c>track_interface</c>.
    /// </summary>
    private static IEnumerable<(string Name, int Weight)> TrackedInterfaces(VrrpInstance instance)
    {
        if (!instance.DontTrackPrimary)
        {
            yield return (instance.Interface, 0);
        }

        foreach (var tracked in instance.TrackInterfaces)
        {
            if (tracked.Name != instance.Interface || instance.DontTrackPrimary)
            {
                yield return (tracked.Name, tracked.Weight);
            }
        }
    }

    /// <summary>The interface's first primary IPv4 address that is not a configured VIP (keepalived's choice).</summary>
    private IPAddress? PrimaryAddress(int interfaceIndex, KeepalivedConfig config)
    {
        var vips = config.VrrpInstances.SelectMany(i => i.AllVirtualIpAddresses()).Select(v => v.Address).ToHashSet();
        var addresses = _netlink!.GetIPv4Addresses(interfaceIndex);
        return addresses.FirstOrDefault(a => !a.Secondary && !vips.Contains(a.Address))?.Address
            ?? addresses.FirstOrDefault(a => !vips.Contains(a.Address))?.Address;
    }

    /// <summary>
    /// Opens a gratuitous ARP sender for every other interface the instance's VIPs name with <c>dev</c>, now, in
    /// the namespace StartAsync runs in (a packet socket belongs to the namespace it was opened in).
    /// </summary>
    private void OpenArpPortsForOtherDevices(VrrpInstance instance)
    {
        foreach (string device in instance.AllVirtualIpAddresses().Select(a => a.Device).OfType<string>().Distinct(StringComparer.Ordinal))
        {
            LinkState? link;
            lock (_stateGate)
            {
                if (device == instance.Interface || _hubs.ContainsKey(device) || _otherArpPorts.ContainsKey(device) || !_links.TryGetValue(device, out link))
                {
                    continue;
                }
            }

            var port = new ArpPort(_adapters.OpenArpSender(link.Index), link.HardwareAddress);
            lock (_stateGate)
            {
                _otherArpPorts[device] = port;
            }
        }
    }

    /// <summary>
    /// Closes the other-device ARP sockets (AF_PACKET) that no instance of <paramref name="config"/> names with
    /// <c>dev</c> any more: without this, a reload that removes such an instance kept its sockets until stop.
    /// Runs after the stopped instances are gone (their bursts cancelled) and before new ones open theirs.
    /// </summary>
    private void ReleaseUnusedArpPorts(KeepalivedConfig config)
    {
        var named = config.VrrpInstances
            .SelectMany(i => i.AllVirtualIpAddresses().Select(a => a.Device).OfType<string>().Where(d => d != i.Interface))
            .ToHashSet(StringComparer.Ordinal);
        List<ArpPort> unused;
        lock (_stateGate)
        {
            var devices = _otherArpPorts.Keys.Where(d => !named.Contains(d)).ToList();
            unused = [.. devices.Select(d => _otherArpPorts[d])];
            foreach (string device in devices)
            {
                _otherArpPorts.Remove(device);
            }
        }

        foreach (var port in unused)
        {
            port.Sender.Dispose();
        }
    }

    private ArpPort? ArpOn(string device)
    {
        lock (_stateGate)
        {
            if (_hubs.TryGetValue(device, out var hub))
            {
                return new ArpPort(hub.Arp, hub.HardwareAddress);
            }

            return _otherArpPorts.GetValueOrDefault(device);
        }
    }

    private InterfaceHub GetOrCreateHub(LinkState link, IPAddress primary, IPAddress group)
    {
        lock (_stateGate)
        {
            if (_hubs.TryGetValue(link.Name, out var existing))
            {
                return existing;
            }
        }

        var socket = _adapters.OpenSocket(new VrrpSocketOptions(link.Name, link.Index, primary, group));
        IGratuitousArpSender arp;
        try
        {
            arp = _adapters.OpenArpSender(link.Index);
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        var hub = new InterfaceHub(link.Name, link.Index, link.HardwareAddress, socket, arp, _logger);
        lock (_stateGate)
        {
            _hubs[link.Name] = hub;
        }

        return hub;
    }

    private ScriptTracker GetOrCreateScript(VrrpScript script, GlobalDefinitions global)
    {
        lock (_stateGate)
        {
            if (_scripts.TryGetValue(script.Name, out var existing) && existing.Script.Equals(script))
            {
                return existing;
            }

            var tracker = new ScriptTracker(script, script.User ?? global.ScriptUser, _adapters.ScriptRunner, _timeProvider,
                _loggerFactory.CreateLogger("vipproxy.vrrp.script." + script.Name));
            _scripts[script.Name] = tracker;
            return tracker;
        }
    }

    private async Task StopInstanceAsync(InstanceEntry entry, CancellationToken cancellationToken)
    {
        lock (_stateGate)
        {
            if (_instances.TryGetValue(entry.Instance.Name, out var registered) && registered == entry)
            {
                _instances.Remove(entry.Instance.Name);
            }
        }

        var trackersToStop = new List<ScriptTracker>();
        foreach (var (tracker, onChange) in entry.ScriptSubscriptions)
        {
            tracker.Unsubscribe(onChange);
            lock (_stateGate)
            {
                if (tracker.SubscriberCount == 0)
                {
                    if (_scripts.TryGetValue(tracker.Script.Name, out var registered) && registered == tracker)
                    {
                        _scripts.Remove(tracker.Script.Name);
                    }

                    trackersToStop.Add(tracker);
                }
            }
        }

        foreach (var tracker in trackersToStop.Distinct())
        {
            await tracker.DisposeAsync().ConfigureAwait(false);
        }

        if (entry.Driver is { } driver)
        {
            await driver.StopAsync(cancellationToken).ConfigureAwait(false);
            entry.Hub?.Remove(driver);
        }

        if (entry.Hub is { } hub)
        {
            bool last;
            lock (_stateGate)
            {
                last = hub.DriverCount == 0 && _hubs.TryGetValue(hub.Name, out var registered) && registered == hub;
                if (last)
                {
                    _hubs.Remove(hub.Name);
                }
            }

            if (last)
            {
                await hub.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    private async Task WatchLinksAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            IReadOnlyList<LinkState> changes;
            try
            {
                changes = await _linkWatcher!.ReceiveAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }
            catch (System.Net.Sockets.SocketException e)
            {
                // ENOBUFS: the kernel dropped notifications; read the whole table again.
                LogLinkWatchError(_logger, e.Message);
                try
                {
                    RefreshLinks();
                }
                catch (System.Net.Sockets.SocketException)
                {
                    await Task.Delay(TimeSpan.FromSeconds(1), _timeProvider, cancellationToken).ConfigureAwait(false);
                    continue;
                }

                lock (_stateGate)
                {
                    changes = [.. _links.Values];
                }
            }

            OnLinks(changes);
        }
    }

    /// <summary>Applies link reports: updates the table and tells every instance tracking the link.</summary>
    internal void OnLinks(IReadOnlyList<LinkState> changes)
    {
        List<InstanceEntry> entries;
        lock (_stateGate)
        {
            foreach (var link in changes)
            {
                if (link.Name.Length == 0)
                {
                    continue;
                }

                if (_links.TryGetValue(link.Name, out var previous) && previous.IsUp != link.IsUp)
                {
                    LogLink(_logger, link.Name, link.IsUp ? "up" : "down");
                }

                _links[link.Name] = link.HardwareAddress.Length == 0 && previous is not null
                    ? link with { HardwareAddress = previous.HardwareAddress }
                    : link;
            }

            entries = [.. _instances.Values];
        }

        foreach (var entry in entries)
        {
            if (entry.Driver is not { } driver)
            {
                continue;
            }

            foreach (var (name, weight) in TrackedInterfaces(entry.Instance))
            {
                var link = changes.LastOrDefault(l => l.Name == name);
                if (link is not null)
                {
                    var (faulted, delta) = TrackingRules.Contribution(link.IsUp, weight, reverse: false);
                    driver.OnTracked("interface:" + name, faulted, delta);
                }
            }
        }
    }

    [LoggerMessage(EventId = 700, Level = LogLevel.Information, Message = "({Instance}) started on {Interface} as {Primary}: VRID {Vrid}, VRRPv{Version}, priority {Priority}")]
    private static partial void LogStarted(ILogger logger, string instance, string @interface, IPAddress primary, int vrid, int version, int priority);

    [LoggerMessage(EventId = 701, Level = LogLevel.Error, Message = "({Instance}) cannot start")]
    private static partial void LogStartFailed(ILogger logger, Exception exception, string instance);

    [LoggerMessage(EventId = 702, Level = LogLevel.Warning, Message = "({Instance}) track_script {Script}: no such vrrp_script, ignored")]
    private static partial void LogUnknownScript(ILogger logger, string instance, string script);

    [LoggerMessage(EventId = 703, Level = LogLevel.Information, Message = "Link {Interface} is {State}")]
    private static partial void LogLink(ILogger logger, string @interface, string state);

    [LoggerMessage(EventId = 704, Level = LogLevel.Warning, Message = "Link watch: {Reason}; re-reading the link table")]
    private static partial void LogLinkWatchError(ILogger logger, string reason);

    [LoggerMessage(EventId = 705, Level = LogLevel.Information, Message = "VRRP reload: {Restarted} instance(s) stopped or restarted, {Kept} kept ({Before} -> {After} configured)")]
    private static partial void LogReloaded(ILogger logger, int restarted, int kept, int before, int after);

    /// <summary>What must be equal for a reload to leave an instance running.</summary>
    private sealed record InstanceKey(VrrpInstance Instance, ValueList<VrrpScript?> Scripts, IPAddress MulticastGroup, ScriptAccount? ScriptUser);

    private sealed class InstanceEntry(VrrpInstance instance, InstanceKey key)
    {
        public VrrpInstance Instance { get; } = instance;

        public InstanceKey Key { get; } = key;

        public int Order { get; set; }

        public VrrpInstanceDriver? Driver { get; set; }

        public InterfaceHub? Hub { get; set; }

        public List<(ScriptTracker Tracker, Action<bool> OnChange)> ScriptSubscriptions { get; } = [];
    }
}
