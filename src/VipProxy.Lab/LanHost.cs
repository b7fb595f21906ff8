using System.Net;

namespace VipProxy.Lab;

/// <summary>A host: its own network namespace with `lo` up and one interface per switch it is connected to.</summary>
public sealed class LanHost
{
    public static readonly TimeSpan DefaultRunTimeout = TimeSpan.FromSeconds(30);

    private readonly Lan _lan;
    private readonly SafeLog _log;
    private readonly List<LanInterface> _interfaces = [];

    internal LanHost(Lan lan, string name, string namespaceName, SafeLog log)
    {
        _lan = lan;
        Name = name;
        NamespaceName = namespaceName;
        _log = log;
    }

    public string Name { get; }

    public string NamespaceName { get; }

    public IReadOnlyList<LanInterface> Interfaces => _interfaces;

    /// <summary>The address of a host with exactly one interface, the common case.</summary>
    public IPAddress Address => _interfaces.Count == 1
        ? _interfaces[0].Address
        : throw new InvalidOperationException($"host {Name} has {_interfaces.Count} interfaces: use InterfaceOn");

    public LanInterface InterfaceOn(LanSwitch lanSwitch) =>
        _interfaces.SingleOrDefault(i => i.Switch == lanSwitch)
        ?? throw new InvalidOperationException($"host {Name} is not connected to switch {lanSwitch?.Name}");

    /// <summary>
    /// Cables the host to a switch and gives it 198.18.x.<paramref name="hostNumber"/>/24 (the lowest free number
    /// when omitted). The veth pair is created with its ends already inside the two namespaces, so it never
    /// appears in the root namespace, not even for a moment.
    /// </summary>
    public async Task<LanInterface> ConnectAsync(LanSwitch lanSwitch, int? hostNumber = null)
    {
        ArgumentNullException.ThrowIfNull(lanSwitch);
        if (_interfaces.Any(i => i.Switch == lanSwitch))
        {
            throw new InvalidOperationException($"host {Name} is already connected to switch {lanSwitch.Name}");
        }

        var address = lanSwitch.AddressOf(hostNumber ?? lanSwitch.NextFreeHostNumber());
        if (lanSwitch.IsAddressTaken(address))
        {
            throw new InvalidOperationException($"{address} is already used on switch {lanSwitch.Name}");
        }

        var (hostSide, switchSide) = _lan.NextVethNames();
        await Ip.RunAsync(_log, "-n", lanSwitch.NamespaceName, "link", "add", switchSide, "type", "veth",
            "peer", "name", hostSide, "netns", NamespaceName).ConfigureAwait(false);
        var port = new LanInterface(this, lanSwitch, hostSide, switchSide, address, _log);
        _interfaces.Add(port);
        lanSwitch.AddPort(port);

        await Ip.RunAsync(_log, "-n", lanSwitch.NamespaceName, "link", "set", switchSide, "master",
            lanSwitch.BridgeName).ConfigureAwait(false);
        if (lanSwitch.IsMulticastBlocked)
        {
            await lanSwitch.ApplyMulticastFloodingAsync(switchSide).ConfigureAwait(false);
        }

        await Ip.RunAsync(_log, "-n", NamespaceName, "addr", "add", $"{address}/{lanSwitch.PrefixLength}",
            "dev", hostSide).ConfigureAwait(false);
        await port.RestoreLinkAsync().ConfigureAwait(false);
        return port;
    }

    /// <summary>Starts a program in this host (no shell: arguments are passed as they are).</summary>
    public LanProcess Start(string program, params string[] arguments) => Start(program, arguments, null);

    public LanProcess Start(string program, IEnumerable<string> arguments,
        IReadOnlyDictionary<string, string?>? environment) =>
        _lan.Track(new LanProcess(this, program, arguments, environment, _log));

    public LanProcess StartShell(string script) => Start("sh", "-c", script);

    /// <summary>Runs a program in this host to completion; throws TimeoutException after 30 s.</summary>
    public Task<CommandResult> RunAsync(string program, params string[] arguments) =>
        RunAsync(program, arguments, DefaultRunTimeout);

    public Task<CommandResult> RunAsync(string program, IEnumerable<string> arguments, TimeSpan timeout) =>
        CommandRunner.RunAsync(Ip.Program, ["netns", "exec", NamespaceName, program, .. arguments], timeout, _log,
            $"{Name}:{Path.GetFileName(program)}");

    public Task<CommandResult> RunShellAsync(string script) => RunAsync("sh", "-c", script);

    public async Task<IReadOnlyList<InterfaceAddress>> GetIPv4AddressesAsync(string interfaceName)
    {
        var json = await Ip.QueryAsync(_log, "-n", NamespaceName, "-j", "addr", "show", "dev", interfaceName)
            .ConfigureAwait(false);
        return IpJson.IPv4Addresses(json.StandardOutput);
    }

    /// <summary>Routes everything off-subnet via <paramref name="gateway"/> (e.g. real servers via the LB).</summary>
    public Task SetDefaultRouteAsync(IPAddress gateway)
    {
        ArgumentNullException.ThrowIfNull(gateway);
        return Ip.RunAsync(_log, "-n", NamespaceName, "route", "replace", "default", "via", gateway.ToString());
    }

    /// <summary>Lets this host route between its interfaces. Affects only this namespace's own sysctl.</summary>
    public async Task EnableIpForwardingAsync() =>
        (await RunAsync("sysctl", "-w", "net.ipv4.ip_forward=1").ConfigureAwait(false))
        .EnsureSuccess($"enabling ip_forward on {Name}");

    public override string ToString() => Name;
}
