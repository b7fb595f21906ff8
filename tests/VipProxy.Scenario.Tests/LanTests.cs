using System.Net;
using System.Text.Json;
using VipProxy.Lab;
using Xunit.Abstractions;

namespace VipProxy.Scenario.Tests;

[Collection(NetworkScenariosCollection.Name)]
[Trait("Category", "Root")]
public sealed class LanTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    [Theory]
    [InlineData(LinkCut.Cable)]
    [InlineData(LinkCut.HostAdminDown)]
    public async Task Hosts_ping_over_the_bridge_until_the_link_is_cut_and_again_once_restored(LinkCut cut)
    {
        await using var lan = await Lan.CreateAsync(output.WriteLine, "a", "b");
        var a = lan.Host("a");
        var b = lan.Host("b");

        Assert.True(await Ping.ReachesAsync(a, b.Address));
        Assert.True(await Ping.ReachesAsync(b, a.Address));

        await b.Interfaces[0].CutLinkAsync(cut);
        Assert.NotEqual("UP", await b.Interfaces[0].GetOperationalStateAsync());
        Assert.False(await Ping.ReachesAsync(a, b.Address));

        await b.Interfaces[0].RestoreLinkAsync();
        Assert.True(await Ping.ReachesAsync(a, b.Address));
    }

    [Fact]
    public async Task A_cable_cut_shows_the_host_a_carrier_loss()
    {
        await using var lan = await Lan.CreateAsync(output.WriteLine, "a");
        var link = lan.Host("a").Interfaces[0];

        await link.CutLinkAsync(LinkCut.Cable);

        var shown = await lan.Host("a").RunAsync("ip", "link", "show", "dev", link.Name);
        Assert.Contains("NO-CARRIER", shown.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Reading_addresses_returns_the_configured_address()
    {
        await using var lan = await Lan.CreateAsync(output.WriteLine);
        var lanSwitch = await lan.AddSwitchAsync("servers", subnetIndex: 7);
        var host = await lan.AddHostAsync("db");
        var link = await host.ConnectAsync(lanSwitch, hostNumber: 42);

        var addresses = await link.GetIPv4AddressesAsync();

        Assert.Equal(IPAddress.Parse("198.18.7.42"), link.Address);
        Assert.Equal([new InterfaceAddress(IPAddress.Parse("198.18.7.42"), 24, link.Name)], addresses);
    }

    [Fact]
    public async Task A_process_in_a_host_sees_only_that_hosts_interfaces()
    {
        await using var lan = await Lan.CreateAsync(output.WriteLine, "a", "b");
        var a = lan.Host("a");

        var links = (await a.RunAsync("ip", "-j", "link", "show")).EnsureSuccess("ip link");

        using var json = JsonDocument.Parse(links.StandardOutput);
        var up = json.RootElement.EnumerateArray().ToDictionary(
            link => link.GetProperty("ifname").GetString()!,
            link => link.GetProperty("flags").EnumerateArray().Any(flag => flag.GetString() == "UP"));
        Assert.Equal(new Dictionary<string, bool> { ["lo"] = true, [a.Interfaces[0].Name] = true }, up);
    }

    [Fact]
    public async Task A_host_on_two_switches_routes_between_them_when_forwarding_is_enabled()
    {
        await using var lan = await Lan.CreateAsync(output.WriteLine);
        var clients = await lan.AddSwitchAsync("clients");
        var servers = await lan.AddSwitchAsync("servers");
        var client = await lan.AddHostAsync("client");
        var lb = await lan.AddHostAsync("lb");
        var server = await lan.AddHostAsync("server");
        await client.ConnectAsync(clients);
        await lb.ConnectAsync(clients);
        await lb.ConnectAsync(servers);
        await server.ConnectAsync(servers);
        await client.SetDefaultRouteAsync(lb.InterfaceOn(clients).Address);
        await server.SetDefaultRouteAsync(lb.InterfaceOn(servers).Address);

        Assert.Equal("198.18.1.0", servers.NetworkAddress.ToString());
        Assert.False(await Ping.ReachesAsync(client, server.Address));

        await lb.EnableIpForwardingAsync();
        Assert.True(await Ping.ReachesAsync(client, server.Address));
    }

    [Fact]
    public async Task A_started_process_logs_its_output_takes_signals_and_stops()
    {
        await using var lan = await Lan.CreateAsync(output.WriteLine, "a");
        var daemon = lan.Host("a").StartShell(
            "trap 'echo got HUP' HUP; trap 'echo bye; exit 3' TERM; echo ready; while :; do sleep 0.05; done");

        await daemon.WaitForOutputAsync("ready", Timeout);
        daemon.Signal(UnixSignal.Hup);
        await daemon.WaitForOutputAsync("got HUP", Timeout);
        var exitCode = await daemon.StopAsync();

        Assert.Equal(3, exitCode);
        Assert.Equal(["ready", "got HUP", "bye"], daemon.OutputLines);
    }

    [Fact]
    public async Task Stop_kills_a_process_that_ignores_SIGTERM()
    {
        await using var lan = await Lan.CreateAsync(output.WriteLine, "a");
        var stubborn = lan.Host("a").StartShell("trap '' TERM; echo ready; while :; do sleep 0.05; done");
        await stubborn.WaitForOutputAsync("ready", Timeout);

        var exitCode = await stubborn.StopAsync(grace: TimeSpan.FromMilliseconds(300));

        Assert.Equal(128 + (int)UnixSignal.Kill, exitCode);
    }

    [Fact]
    public async Task Waiting_for_output_fails_fast_when_the_process_exits()
    {
        await using var lan = await Lan.CreateAsync(output.WriteLine, "a");
        var quitter = lan.Host("a").StartShell("echo something else; exit 2");

        await Assert.ThrowsAsync<TimeoutException>(() => quitter.WaitForOutputAsync("never", TimeSpan.FromMinutes(1)));
        Assert.Equal(2, await quitter.WaitForExitAsync(Timeout));
    }

    [Fact]
    public async Task Blocking_multicast_on_a_switch_stops_multicast_but_not_unicast()
    {
        await using var lan = await Lan.CreateAsync(output.WriteLine, "a", "b");
        var a = lan.Host("a");
        var b = lan.Host("b");

        // b answers pings to the all-hosts group; a does not, so any reply proves the bridge carried multicast.
        (await b.RunAsync("sysctl", "-w", "net.ipv4.icmp_echo_ignore_broadcasts=0")).EnsureSuccess("sysctl");
        var allHosts = IPAddress.Parse("224.0.0.1");
        string[] viaLan = ["-I", a.Interfaces[0].Name];
        Assert.True(await Ping.ReachesAsync(a, allHosts, viaLan));

        await lan.Switch("lan").SetMulticastBlockedAsync(true);
        Assert.False(await Ping.ReachesAsync(a, allHosts, viaLan));
        Assert.True(await Ping.ReachesAsync(a, b.Address));

        await lan.Switch("lan").SetMulticastBlockedAsync(false);
        Assert.True(await Ping.ReachesAsync(a, allHosts, viaLan));
    }

    [Fact]
    public async Task Names_carry_the_prefix_with_the_creator_pid_and_fit_in_IFNAMSIZ()
    {
        await using var lan = await Lan.CreateAsync(output.WriteLine, "a", "b");

        Assert.StartsWith($"vpt{Environment.ProcessId}", lan.Prefix, StringComparison.Ordinal);
        var names = lan.Hosts.SelectMany(h => h.Interfaces).SelectMany(i => new[] { i.Name, i.BridgePortName })
            .Concat(lan.Switches.Select(s => s.BridgeName)).Concat(lan.NamespaceNames);
        Assert.All(names, name => Assert.StartsWith(lan.Prefix, name, StringComparison.Ordinal));
        Assert.All(names.Except(lan.NamespaceNames), name => Assert.InRange(name.Length, 1, 15));
    }
}
