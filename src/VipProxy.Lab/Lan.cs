using System.Globalization;
using System.Text.RegularExpressions;

namespace VipProxy.Lab;

/// <summary>
/// A throw-away network of hosts and switches built from network namespaces, for scenario tests (needs root).
/// Every name carries a prefix unique to this instance, so LANs of parallel test runs never meet. Disposing kills
/// every process inside and deletes every namespace, which takes the veths and bridges with them. The root
/// namespace's interfaces, addresses, routes and firewall are never touched.
/// </summary>
public sealed partial class Lan : IAsyncDisposable, IDisposable
{
    private const int MaxInterfaces = 99;

    private readonly SafeLog _log;
    private readonly List<string> _namespaces = [];
    private readonly List<LanSwitch> _switches = [];
    private readonly List<LanHost> _hosts = [];
    private readonly Lock _processesGate = new();
    private readonly List<LanProcess> _processes = [];
    private int _vethCount;
    private int _bridgeCount;
    private bool _disposed;

    private Lan(SafeLog log, string prefix)
    {
        _log = log;
        Prefix = prefix;

        // Belt and braces for a test that forgets to dispose; a hard crash is left to the next run's sweep.
        AppDomain.CurrentDomain.ProcessExit += OnProcessExit;
    }

    /// <summary>"vpt" + creator pid + two letters; every namespace is named "{Prefix}-{host or switch}".</summary>
    public string Prefix { get; }

    public IReadOnlyList<LanSwitch> Switches => _switches;

    public IReadOnlyList<LanHost> Hosts => _hosts;

    public IReadOnlyList<string> NamespaceNames => _namespaces;

    /// <summary>An empty LAN. Sweeps the namespaces that crashed runs left behind first.</summary>
    public static async Task<Lan> CreateAsync(Action<string> log)
    {
        ArgumentNullException.ThrowIfNull(log);
        await StaleNamespaceSweeper.SweepAsync(log).ConfigureAwait(false);
        var prefix = NamePrefix.Create(Environment.ProcessId);
        while (Ip.ListNamespaces().Any(name => name.StartsWith(prefix + "-", StringComparison.Ordinal)))
        {
            prefix = NamePrefix.Create(Environment.ProcessId);
        }

        log($"test LAN {prefix}");
        return new Lan(new SafeLog(log), prefix);
    }

    /// <summary>
    /// The common case: one switch "lan" on 198.18.0.0/24 and the named hosts on it, numbered .1, .2… in order.
    /// </summary>
    public static async Task<Lan> CreateAsync(Action<string> log, params string[] hostNames)
    {
        ArgumentNullException.ThrowIfNull(hostNames);
        var lan = await CreateAsync(log).ConfigureAwait(false);
        try
        {
            var lanSwitch = await lan.AddSwitchAsync("lan").ConfigureAwait(false);
            foreach (var name in hostNames)
            {
                var host = await lan.AddHostAsync(name).ConfigureAwait(false);
                await host.ConnectAsync(lanSwitch).ConfigureAwait(false);
            }

            return lan;
        }
        catch
        {
            await lan.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    public LanHost Host(string name) =>
        _hosts.SingleOrDefault(h => h.Name == name) ?? throw new KeyNotFoundException($"no host named {name}");

    public LanSwitch Switch(string name) =>
        _switches.SingleOrDefault(s => s.Name == name) ?? throw new KeyNotFoundException($"no switch named {name}");

    /// <summary>
    /// A switch on 198.18.0.0/15 subnet number <paramref name="subnetIndex"/> (0–511; 198.18.{index}.0/24 below
    /// 256), by default the next number not used in this LAN.
    /// </summary>
    public async Task<LanSwitch> AddSwitchAsync(string name, int? subnetIndex = null)
    {
        var index = subnetIndex ?? Enumerable.Range(0, 512).First(i => _switches.All(s => SubnetIndexOf(s) != i));
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(index, 511);
        var namespaceName = await AddNamespaceAsync(name).ConfigureAwait(false);
        var bridge = string.Create(CultureInfo.InvariantCulture, $"{Prefix}b{++_bridgeCount}");
        var lanSwitch = new LanSwitch(name, namespaceName, bridge, index, _log);
        if (_switches.Any(s => s.NetworkAddress.Equals(lanSwitch.NetworkAddress)))
        {
            throw new InvalidOperationException($"subnet {lanSwitch.NetworkAddress}/24 is already used");
        }

        _switches.Add(lanSwitch);
        await Ip.RunAsync(_log, "-n", namespaceName, "link", "add", bridge, "type", "bridge").ConfigureAwait(false);
        await Ip.RunAsync(_log, "-n", namespaceName, "link", "set", bridge, "up").ConfigureAwait(false);
        return lanSwitch;
    }

    public async Task<LanHost> AddHostAsync(string name)
    {
        var namespaceName = await AddNamespaceAsync(name).ConfigureAwait(false);
        var host = new LanHost(this, name, namespaceName, _log);
        _hosts.Add(host);
        return host;
    }

    /// <summary>Removes namespaces of this library's prefix family whose creating process is dead.</summary>
    public static Task<IReadOnlyList<string>> SweepStaleNamespacesAsync(Action<string>? log = null) =>
        StaleNamespaceSweeper.SweepAsync(log);

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        AppDomain.CurrentDomain.ProcessExit -= OnProcessExit;
        LanProcess[] processes;
        lock (_processesGate)
        {
            processes = [.. _processes];
        }

        foreach (var process in processes)
        {
            await process.DisposeAsync().ConfigureAwait(false);
        }

        // Hosts before switches: a switch namespace holds nothing but veth ends and its bridge.
        var leftovers = new List<string>();
        foreach (var name in Enumerable.Reverse(_namespaces))
        {
            try
            {
                if (!await Ip.DestroyNamespaceAsync(_log, name).ConfigureAwait(false))
                {
                    leftovers.Add(name);
                }
            }
            catch (Exception e) when (e is TimeoutException or InvalidOperationException)
            {
                // Carry on with the other namespaces; the failure is reported below.
                _log.Write($"removing {name} failed: {e.Message}");
                leftovers.Add(name);
            }
        }

        if (leftovers.Count > 0)
        {
            throw new InvalidOperationException($"could not remove namespaces {string.Join(' ', leftovers)}");
        }
    }

    public void Dispose() => Task.Run(() => DisposeAsync().AsTask()).GetAwaiter().GetResult();

    internal LanProcess Track(LanProcess process)
    {
        lock (_processesGate)
        {
            _processes.Add(process);
        }

        return process;
    }

    /// <summary>Host and switch ends of the next veth pair, "{Prefix}h{n}" and "{Prefix}s{n}" (at most 15 chars).</summary>
    internal (string HostSide, string SwitchSide) NextVethNames()
    {
        if (++_vethCount > MaxInterfaces)
        {
            throw new InvalidOperationException($"a test LAN holds at most {MaxInterfaces} interfaces");
        }

        return (string.Create(CultureInfo.InvariantCulture, $"{Prefix}h{_vethCount}"),
            string.Create(CultureInfo.InvariantCulture, $"{Prefix}s{_vethCount}"));
    }

    private static int SubnetIndexOf(LanSwitch lanSwitch)
    {
        var bytes = lanSwitch.NetworkAddress.GetAddressBytes();
        return ((bytes[1] - 18) * 256) + bytes[2];
    }

    private async Task<string> AddNamespaceAsync(string name)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (!ValidName().IsMatch(name))
        {
            throw new ArgumentException($"'{name}' is not a valid host or switch name: use [a-z0-9-], up to 32", nameof(name));
        }

        var namespaceName = $"{Prefix}-{name}";
        if (_namespaces.Contains(namespaceName))
        {
            throw new ArgumentException($"a host or switch is already named '{name}'", nameof(name));
        }

        // Recorded before creation so that a failure half-way is still cleaned up by DisposeAsync.
        _namespaces.Add(namespaceName);
        await Ip.RunAsync(_log, "netns", "add", namespaceName).ConfigureAwait(false);
        await Ip.RunAsync(_log, "-n", namespaceName, "link", "set", "lo", "up").ConfigureAwait(false);
        return namespaceName;
    }

    private void OnProcessExit(object? sender, EventArgs e)
    {
        try
        {
            Dispose();
        }
#pragma warning disable CA1031 // The process is exiting: there is no one left to report to.
        catch (Exception)
#pragma warning restore CA1031
        {
        }
    }

    [GeneratedRegex("^[a-z0-9][a-z0-9-]{0,31}$")]
    private static partial Regex ValidName();
}
