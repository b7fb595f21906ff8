using System.Net;
using VipProxy.Lab;
using VipProxy.Vrrp.Linux;
using VipProxy.Vrrp.Protocol;
using VipProxy.Vrrp.Tests.Support;
using Xunit.Abstractions;

namespace VipProxy.Vrrp.Tests.Linux;

/// <summary>The real adapters against the kernel, inside throw-away namespaces (needs root).</summary>
[Collection(KernelCollection.Name)]
[Trait("Category", "Root")]
public sealed class AdapterSmokeTests(ITestOutputHelper output)
{
    private static readonly IPAddress Vip = IPAddress.Parse("198.18.0.100");

    [Fact]
    public async Task Netlink_reads_links_and_addresses_and_adds_and_removes_a_labelled_VIP()
    {
        await using var lan = await Lan.CreateAsync(output.WriteLine, "a");
        var a = lan.Host("a");
        var name = a.Interfaces[0].Name;
        using var netlink = NetNs.Run(a.NamespaceName, NetlinkRoute.Open);

        var link = netlink.GetLinks().Single(l => l.Name == name);
        Assert.True(link.IsUp);
        Assert.Equal(6, link.HardwareAddress.Length);
        Assert.Equal([new InterfaceAddressEntry(a.Address, 24, name, false)], netlink.GetIPv4Addresses(link.Index));

        var label = name + ":v";
        Assert.True(netlink.AddAddress(link.Index, new AddressRequest(Vip, 24, null, 0, label)));
        Assert.False(netlink.AddAddress(link.Index, new AddressRequest(Vip, 24, null, 0, label)));
        Assert.Contains(new InterfaceAddress(Vip, 24, label), await a.GetIPv4AddressesAsync(name));
        Assert.Contains(netlink.GetIPv4Addresses(link.Index), e => e.Address.Equals(Vip) && e.Secondary);

        Assert.True(netlink.RemoveAddress(link.Index, Vip, 24));
        Assert.False(netlink.RemoveAddress(link.Index, Vip, 24));
        Assert.DoesNotContain(await a.GetIPv4AddressesAsync(name), x => x.Address.Equals(Vip));
    }

    [Fact]
    public async Task Sock_diag_destroys_the_TIME_WAIT_sockets_on_the_VIP_and_leaves_the_others()
    {
        await using var lan = await Lan.CreateAsync(output.WriteLine, "a");
        var a = lan.Host("a");
        (await a.RunAsync("ip", "addr", "add", $"{Vip}/32", "dev", a.Interfaces[0].Name)).EnsureSuccess("ip addr add VIP");
        await MakeTimeWaitAsync(a, Vip);
        await MakeTimeWaitAsync(a, a.Address);
        Assert.Equal([a.Address.ToString(), Vip.ToString()], await TimeWaitLocalAddressesAsync(a));

        using var diag = NetNs.Run(a.NamespaceName, SocketDiag.Open);
        Assert.Equal(1, diag.DestroyTimeWait([Vip]));

        Assert.Equal([a.Address.ToString()], await TimeWaitLocalAddressesAsync(a));
        Assert.Equal(0, diag.DestroyTimeWait([Vip]));
    }

    /// <summary>A connection to ADDRESS:7000 that the server closes first, so the server side lingers in TIME_WAIT.</summary>
    private static async Task MakeTimeWaitAsync(LanHost host, IPAddress address)
    {
        using var listener = NetNs.Run(host.NamespaceName, () => new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp));
        listener.Bind(new IPEndPoint(address, 7000));
        listener.Listen();
        using var client = NetNs.Run(host.NamespaceName, () => new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp));
        await client.ConnectAsync(new IPEndPoint(address, 7000));
        using (var accepted = await listener.AcceptAsync())
        {
            accepted.Shutdown(System.Net.Sockets.SocketShutdown.Send);
        }

        Assert.Equal(0, await client.ReceiveAsync(new byte[1]));
        client.Close();
        await Task.Delay(100);
    }

    private static async Task<string[]> TimeWaitLocalAddressesAsync(LanHost host)
    {
        var result = (await host.RunAsync("ss", "-Htan", "state", "time-wait")).EnsureSuccess("ss state time-wait");
        return [.. result.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[2])
            .Select(local => local[..local.LastIndexOf(':')])
            .Order(StringComparer.Ordinal)];
    }

    [Fact]
    public async Task The_link_watcher_reports_carrier_loss_and_return()
    {
        await using var lan = await Lan.CreateAsync(output.WriteLine, "a");
        var port = lan.Host("a").Interfaces[0];
        using var netlink = NetNs.Run(port.Host.NamespaceName, NetlinkRoute.Open);
        using var watcher = NetNs.Run(port.Host.NamespaceName, netlink.WatchLinks); // the watcher socket opens in the calling thread's namespace

        await port.CutLinkAsync();
        await WaitForLinkAsync(watcher, port.Name, up: false);
        await port.RestoreLinkAsync();
        await WaitForLinkAsync(watcher, port.Name, up: true);
    }

    [Fact]
    public async Task The_raw_socket_carries_adverts_between_hosts_by_multicast_and_unicast_with_TTL_255()
    {
        await using var lan = await Lan.CreateAsync(output.WriteLine, "a", "b");
        var a = lan.Host("a");
        var b = lan.Host("b");
        using var socketA = Open(a);
        using var socketB = Open(b);
        var packet = new VrrpPacket
        {
            Version = VrrpVersion.V3, VirtualRouterId = 7, Priority = 150,
            AdvertisementInterval = TimeSpan.FromMilliseconds(100), Addresses = [Vip],
        };

        socketA.Send(VrrpCodec.EncodeIPv4DatagramToArray(packet, a.Address, VrrpCodec.MulticastGroup), VrrpCodec.MulticastGroup);
        var received = await ReceiveAsync(socketB);
        Assert.Equal(255, received[8]);
        var decoded = VrrpCodec.Decode(received);
        Assert.True(decoded.IsAccepted, decoded.ToString());
        Assert.Equal(a.Address, decoded.Advertisement!.Source);
        Assert.Equal(VrrpCodec.MulticastGroup, decoded.Advertisement.Destination);

        socketA.Send(VrrpCodec.EncodeIPv4DatagramToArray(packet, a.Address, b.Address), b.Address);
        var unicast = VrrpCodec.Decode(await ReceiveAsync(socketB));
        Assert.True(unicast.IsAccepted, unicast.ToString());
        Assert.Equal(b.Address, unicast.Advertisement!.Destination);

        // Our own multicast is not looped back to us.
        using var quiet = new CancellationTokenSource(300);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => socketA.ReceiveAsync(new byte[2048], quiet.Token).AsTask());
    }

    [Fact]
    public async Task A_gratuitous_ARP_moves_a_neighbours_existing_entry_to_our_MAC()
    {
        await using var lan = await Lan.CreateAsync(output.WriteLine, "a", "b");
        var a = lan.Host("a");
        var b = lan.Host("b");
        var bName = b.Interfaces[0].Name;
        (await b.RunAsync("ip", "neigh", "replace", Vip.ToString(), "lladdr", "02:00:00:00:00:99", "dev", bName, "nud", "stale"))
            .EnsureSuccess("seed neighbour");
        using var netlink = NetNs.Run(a.NamespaceName, NetlinkRoute.Open);
        var link = netlink.GetLinks().Single(l => l.Name == a.Interfaces[0].Name);
        using var arp = NetNs.Run(a.NamespaceName, () => PacketArpSender.Open(link.Index));

        arp.Send(Vip, link.HardwareAddress.Span);

        var mac = string.Join(':', link.HardwareAddress.ToArray().Select(x => x.ToString("x2", System.Globalization.CultureInfo.InvariantCulture)));
        var deadline = DateTime.UtcNow.AddSeconds(5);
        string shown;
        do
        {
            await Task.Delay(50);
            shown = (await b.RunAsync("ip", "neigh", "show", Vip.ToString(), "dev", bName)).StandardOutput;
        }
        while (!shown.Contains(mac, StringComparison.Ordinal) && DateTime.UtcNow < deadline);

        Assert.Contains(mac, shown, StringComparison.Ordinal);
    }

    [Fact]
    public void The_gratuitous_ARP_body_is_a_request_with_sender_and_target_the_VIP()
    {
        var body = PacketArpSender.BuildRequest(Vip, new byte[] { 2, 1, 2, 3, 4, 5 });
        Assert.Equal("0001 0800 06 04 0001 020102030405 c6120064 ffffffffffff c6120064".Replace(" ", "", StringComparison.Ordinal), Hex.Of(body));
    }

    private static IVrrpSocket Open(LanHost host)
    {
        var name = host.Interfaces[0].Name;
        int index = IndexOf(host, name);
        return NetNs.Run(host.NamespaceName, () => RawVrrpSocket.Open(new VrrpSocketOptions(name, index, host.Address, VrrpCodec.MulticastGroup)));
    }

    private static int IndexOf(LanHost host, string name)
    {
        using var netlink = NetNs.Run(host.NamespaceName, NetlinkRoute.Open);
        return netlink.GetLinks().Single(l => l.Name == name).Index;
    }

    private static async Task<byte[]> ReceiveAsync(IVrrpSocket socket)
    {
        var buffer = new byte[2048];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        int length = await socket.ReceiveAsync(buffer, timeout.Token);
        return buffer[..length];
    }

    private static async Task WaitForLinkAsync(ILinkWatcher watcher, string name, bool up)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        while (true)
        {
            var links = await watcher.ReceiveAsync(timeout.Token);
            if (links.Any(l => l.Name == name && l.IsUp == up))
            {
                return;
            }
        }
    }
}

/// <summary>Kernel tests build namespaces; run them one at a time.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class KernelCollection
{
    public const string Name = "Kernel adapters";
}
