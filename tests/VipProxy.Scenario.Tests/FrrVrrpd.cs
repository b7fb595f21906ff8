using System.Globalization;
using System.Net;
using System.Text.Json;
using VipProxy.Lab;

namespace VipProxy.Scenario.Tests;

/// <summary>
/// FRR's zebra and vrrpd (Debian's frr 8.4) inside one host's namespace, as the other router of a VRRP group.
/// Nothing runs in the root namespace and nothing is read from or written to /etc/frr: the config files, pid files,
/// the zebra API socket and the vty sockets live in a private directory removed on dispose. vrrpd does not create
/// the macvlan that carries the virtual MAC and the VIP (FRR's doc/user/vrrp.rst, "System Configuration"), so this
/// class does, as an operator would: mode bridge (so the parent still receives the other routers' adverts),
/// MAC 00:00:5e:00:01:VRID, VIP on it and not on the parent. In Backup FRR keeps the VIP on the macvlan and sets
/// it protodown; the VRRP state is therefore read from <c>show vrrp json</c>, not from the addresses.
/// </summary>
internal sealed class FrrVrrpd : IAsyncDisposable
{
    private const string Daemons = "/usr/lib/frr";
    private const string Vtysh = "/usr/bin/vtysh";

    // FRR keeps a crash-log directory per daemon and pid under /var/tmp/frr; it removes it on a clean exit only.
    private const string CrashLogRoot = "/var/tmp/frr";

    private readonly string _directory;
    private LanProcess? _zebra;
    private LanProcess? _vrrpd;

    private FrrVrrpd(LanHost host, int vrid, string directory)
    {
        Host = host;
        Vrid = vrid;
        _directory = directory;
        MacvlanName = string.Create(CultureInfo.InvariantCulture, $"vrrp4-{vrid}");
        VirtualMac = string.Create(CultureInfo.InvariantCulture, $"00:00:5e:00:01:{vrid:x2}");
    }

    public LanHost Host { get; }

    public int Vrid { get; }

    public string MacvlanName { get; }

    /// <summary>RFC 5798 §7.3's IPv4 virtual MAC, the source of FRR's adverts and of its ARP replies for the VIP.</summary>
    public string VirtualMac { get; }

    public LanProcess Vrrpd => _vrrpd ?? throw new InvalidOperationException("vrrpd is not running");

    /// <summary>
    /// Creates the macvlan with <paramref name="vip"/>, starts zebra and then vrrpd with one virtual router on the
    /// host's first interface, and waits until vrrpd has left Initialize (both routers start as Backup).
    /// </summary>
    public static async Task<FrrVrrpd> StartAsync(LanHost host, IPAddress vip, int prefixLength, int vrid, int version,
        int priority, int advertIntervalMilliseconds)
    {
        ArgumentNullException.ThrowIfNull(host);
        ArgumentNullException.ThrowIfNull(vip);
        var directory = Directory.CreateTempSubdirectory("vipproxy-frr-").FullName;
        var frr = new FrrVrrpd(host, vrid, directory);
        try
        {
            await frr.StartCoreAsync(vip, prefixLength, version, priority, advertIntervalMilliseconds);
            return frr;
        }
        catch
        {
            await frr.DisposeAsync();
            throw;
        }
    }

    /// <summary>What <see cref="GetStateAsync"/> returns after <c>no vrrp VRID</c>.</summary>
    public const string Absent = "Absent";

    /// <summary>vrrpd's state of the IPv4 virtual router: "Initialize", "Backup", "Master" or <see cref="Absent"/>.</summary>
    public async Task<string> GetStateAsync()
    {
        var shown = (await VtyshAsync("show vrrp json")).EnsureSuccess("vtysh show vrrp json");
        using var json = JsonDocument.Parse(shown.StandardOutput);
        foreach (var router in json.RootElement.EnumerateArray())
        {
            if (router.GetProperty("vrid").GetInt32() == Vrid)
            {
                return router.GetProperty("v4").GetProperty("status").GetString() ?? "";
            }
        }

        return Absent;
    }

    /// <summary>Master in vrrpd's own view; false once vrrpd has exited or the virtual router was removed.</summary>
    public async Task<bool> IsMasterAsync()
    {
        if (Vrrpd.HasExited)
        {
            return false;
        }

        try
        {
            return await GetStateAsync() == "Master";
        }
        catch (InvalidOperationException)
        {
            // vtysh finds no vty socket when vrrpd was exiting (after SIGTERM) as it asked: not master then.
            if (await ExitsWithinAsync(Vrrpd, TimeSpan.FromSeconds(2)))
            {
                return false;
            }

            throw;
        }
    }

    /// <summary>Runs vtysh commands against this vrrpd (each argument one <c>-c</c>, in order, as one session).</summary>
    public Task<CommandResult> VtyshAsync(params string[] commands) =>
        Host.RunAsync(Vtysh, ["--vty_socket", _directory, .. commands.SelectMany(c => new[] { "-c", c })],
            TimeSpan.FromSeconds(15));

    /// <summary><c>no vrrp VRID</c> on the interface: FRR shuts the virtual router down (a priority-0 advert).</summary>
    public async Task RemoveVirtualRouterAsync() =>
        (await VtyshAsync("configure terminal", $"interface {Host.Interfaces[0].Name}",
            string.Create(CultureInfo.InvariantCulture, $"no vrrp {Vrid}"))).EnsureSuccess("vtysh no vrrp");

    public async ValueTask DisposeAsync()
    {
        foreach (var process in new[] { _vrrpd, _zebra })
        {
            if (process is null)
            {
                continue;
            }

            if (!process.HasExited)
            {
                await process.StopAsync(TimeSpan.FromSeconds(3));
            }

            await process.DisposeAsync();
            DeleteDirectory(Path.Combine(CrashLogRoot,
                string.Create(CultureInfo.InvariantCulture, $"{Path.GetFileName(process.Program)}.{process.Id}")));
        }

        DeleteDirectory(_directory);
    }

    private static void DeleteDirectory(string path)
    {
        try
        {
            if (Directory.Exists(path))
            {
                Directory.Delete(path, recursive: true);
            }
        }
        catch (IOException)
        {
            // A socket file still held by a daemon killed a moment ago; /tmp is cleaned anyway.
        }
    }

    private async Task StartCoreAsync(IPAddress vip, int prefixLength, int version, int priority, int advertIntervalMilliseconds)
    {
        var parent = Host.Interfaces[0].Name;
        await RunIpAsync("link", "add", MacvlanName, "link", parent, "type", "macvlan", "mode", "bridge");
        await RunIpAsync("link", "set", "dev", MacvlanName, "address", VirtualMac);
        await RunIpAsync("addr", "add", string.Create(CultureInfo.InvariantCulture, $"{vip}/{prefixLength}"), "dev", MacvlanName);
        await RunIpAsync("link", "set", "dev", MacvlanName, "up");

        // The VIP is a local address of the host whatever the macvlan's state, so with Linux's default arp_ignore 0
        // the parent answers ARP for it with its own MAC (seen here: the client's entry pointed at the parent, not at
        // the virtual MAC), in Backup too. arp_ignore 1 leaves the VIP to the macvlan; arp_announce 2 keeps the VIP
        // out of the host's own ARP requests. This namespace's sysctls only, as an FRR operator sets them.
        foreach (var setting in new[] { "arp_ignore=1", "arp_announce=2" })
        {
            (await Host.RunAsync("sysctl", "-w", $"net.ipv4.conf.{parent}.{setting}")).EnsureSuccess($"sysctl {setting}");
        }

        // The daemons drop to user frr, so their directory must be frr's; vtysh runs as root and may connect.
        (await Host.RunAsync("chown", "frr:frr", _directory)).EnsureSuccess("chown the FRR directory");
        var zebraConfig = Path.Combine(_directory, "zebra.conf");
        File.WriteAllText(zebraConfig, "");
        var vrrpdConfig = Path.Combine(_directory, "vrrpd.conf");
        File.WriteAllText(vrrpdConfig, string.Create(CultureInfo.InvariantCulture, $"""
            interface {parent}
             vrrp {Vrid} version {version}
             vrrp {Vrid} priority {priority}
             vrrp {Vrid} advertisement-interval {advertIntervalMilliseconds}
             vrrp {Vrid} ip {vip}
            """));

        var zserv = Path.Combine(_directory, "zserv.api");
        _zebra = StartDaemon("zebra", zebraConfig, zserv);
        await WaitForFileAsync(zserv, _zebra);
        _vrrpd = StartDaemon("vrrpd", vrrpdConfig, zserv);
        await WaitForFileAsync(Path.Combine(_directory, "vrrpd.vty"), _vrrpd);
        await Eventually.TrueAsync(async () => await GetStateAsync() != "Initialize", TimeSpan.FromSeconds(10),
            "vrrpd starts the virtual router", TimeSpan.FromMilliseconds(50));
    }

    private LanProcess StartDaemon(string daemon, string config, string zserv) =>
        Host.Start(Path.Combine(Daemons, daemon), "-f", config, "-i", Path.Combine(_directory, daemon + ".pid"),
            "-z", zserv, "--vty_socket", _directory, "--log", "stdout", "--log-level", "debug");

    private static async Task<bool> ExitsWithinAsync(LanProcess process, TimeSpan timeout)
    {
        try
        {
            await process.WaitForExitAsync(timeout);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }

    private async Task RunIpAsync(params string[] arguments) =>
        (await Host.RunAsync("ip", arguments)).EnsureSuccess("ip " + string.Join(' ', arguments));

    private static async Task WaitForFileAsync(string path, LanProcess daemon) =>
        await Eventually.TrueAsync(() =>
        {
            if (daemon.HasExited)
            {
                throw new InvalidOperationException($"{daemon.Program} exited with {daemon.ExitCode} before creating {path}");
            }

            return File.Exists(path);
        }, TimeSpan.FromSeconds(10), $"{Path.GetFileName(daemon.Program)} creates {path}", TimeSpan.FromMilliseconds(20));
}
