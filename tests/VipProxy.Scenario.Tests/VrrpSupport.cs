using System.Diagnostics;
using System.Net;
using VipProxy.Lab;

namespace VipProxy.Scenario.Tests;

/// <summary>Files of one scenario (configs, pid files, control sockets) in a private directory removed afterwards.</summary>
internal sealed class ScenarioFiles : IDisposable
{
    public string Directory { get; } = System.IO.Directory.CreateTempSubdirectory("vipproxy-scenario-").FullName;

    public string Write(string name, string text)
    {
        var path = Path.Combine(Directory, name);
        File.WriteAllText(path, text);
        return path;
    }

    public string PathOf(string name) => Path.Combine(Directory, name);

    public void Dispose()
    {
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // A daemon killed late may still hold a socket file; /tmp is cleaned anyway.
        }
    }
}

/// <summary>Starting the product binary and keepalived inside a host, and watching the VIP.</summary>
internal static class Vrrp
{
    public static readonly IPAddress Vip = IPAddress.Parse("198.18.0.100");

    /// <summary>vipproxy.dll, copied into the test output by the project reference to VipProxy.Cli.</summary>
    public static string VipProxyDll { get; } = Path.Combine(AppContext.BaseDirectory, "vipproxy.dll");

    public static string DotNet { get; } = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host)
        ? host
        : "dotnet";

    private static string Keepalived { get; } =
        new[] { "/usr/sbin/keepalived", "/sbin/keepalived", "/usr/bin/keepalived" }.FirstOrDefault(File.Exists) ?? "keepalived";

    /// <summary><c>dotnet vipproxy.dll run -f FILE --socket PATH</c> inside <paramref name="host"/>.</summary>
    public static LanProcess StartVipProxy(LanHost host, ScenarioFiles files, string config, params string[] extraArguments)
    {
        var path = files.Write($"{host.Name}-vipproxy.conf", config);
        return host.Start(DotNet, [VipProxyDll, "run", "-f", path, "--socket", files.PathOf($"{host.Name}.sock"), .. extraArguments]);
    }

    /// <summary>The control socket that <see cref="StartVipProxy"/> gives the daemon of <paramref name="host"/>.</summary>
    public static string VipProxySocket(LanHost host, ScenarioFiles files) => files.PathOf($"{host.Name}.sock");

    /// <summary><c>dotnet vipproxy.dll ARGS</c> run to completion inside <paramref name="host"/> (e.g. <c>status --json</c>).</summary>
    public static Task<CommandResult> RunVipProxyAsync(LanHost host, params string[] arguments) =>
        host.RunAsync(DotNet, [VipProxyDll, .. arguments], TimeSpan.FromSeconds(30));

    /// <summary>keepalived 2.2.7 in the foreground, VRRP only, logging to the console, with its own pid files.</summary>
    public static LanProcess StartKeepalived(LanHost host, ScenarioFiles files, string config)
    {
        var path = files.Write($"{host.Name}-keepalived.conf", config);
        return host.Start(Keepalived, "-n", "-l", "-D", "-P", "-f", path,
            "-p", files.PathOf($"{host.Name}-keepalived.pid"),
            "-r", files.PathOf($"{host.Name}-vrrp.pid"),
            "-c", files.PathOf($"{host.Name}-checkers.pid"));
    }

    /// <summary>A vrrp_instance block; <paramref name="extra"/> lines go inside it.</summary>
    public static string Instance(LanHost host, int priority, int version = 2, string advertInterval = "1", string extra = "") => $$"""
        vrrp_instance VI_1 {
            state BACKUP
            interface {{host.Interfaces[0].Name}}
            virtual_router_id 51
            priority {{priority}}
            version {{version}}
            advert_int {{advertInterval}}
            {{extra}}
            virtual_ipaddress {
                {{Vip}}/24
            }
        }
        """;

    public const string PassAuth = "authentication {\n auth_type PASS\n auth_pass secret1\n }";

    public static async Task<bool> HoldsVipAsync(LanHost host) =>
        (await host.GetIPv4AddressesAsync(host.Interfaces[0].Name)).Any(a => a.Address.Equals(Vip));

    /// <summary>Polls until <paramref name="host"/> holds (or not) the VIP; returns the time it took.</summary>
    public static async Task<TimeSpan> WaitForVipAsync(LanHost host, bool held, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (await HoldsVipAsync(host) != held)
        {
            if (clock.Elapsed > timeout)
            {
                throw new TimeoutException($"{host.Name} {(held ? "did not get" : "kept")} the VIP within {timeout}");
            }

            await Task.Delay(20);
        }

        return clock.Elapsed;
    }

    /// <summary>Asserts that for <paramref name="duration"/> exactly the expected host holds the VIP.</summary>
    public static async Task AssertVipStaysAsync(LanHost holder, LanHost other, TimeSpan duration)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < duration)
        {
            Assert.True(await HoldsVipAsync(holder), $"{holder.Name} lost the VIP after {clock.Elapsed}");
            Assert.False(await HoldsVipAsync(other), $"{other.Name} took the VIP after {clock.Elapsed}");
            await Task.Delay(100);
        }
    }

    /// <summary>The MAC of a host's interface, as `ip neigh` prints it.</summary>
    public static async Task<string> MacOfAsync(LanHost host)
    {
        var shown = (await host.RunAsync("cat", $"/sys/class/net/{host.Interfaces[0].Name}/address")).EnsureSuccess("read MAC");
        return shown.StandardOutput.Trim();
    }

    /// <summary>The client's ARP entry for the VIP ("" when none).</summary>
    public static async Task<string> NeighbourEntryAsync(LanHost client) =>
        (await client.RunAsync("ip", "neigh", "show", Vip.ToString(), "dev", client.Interfaces[0].Name)).StandardOutput.Trim();
}
