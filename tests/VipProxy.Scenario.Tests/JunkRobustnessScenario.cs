using System.Net;
using System.Net.Sockets;
using Tmds.Linux;
using VipProxy.Lab;
using VipProxy.Vrrp.Linux;
using VipProxy.Vrrp.Protocol;
using Xunit.Abstractions;
using static VipProxy.Scenario.Tests.Vrrp;

namespace VipProxy.Scenario.Tests;

/// <summary>
/// keepalived 2.2.7's backup, fed 10 invalid packets a second beside a live master, times out and grabs the VIP every
/// few seconds (measured). VipProxy's backup must not: dropped datagrams never touch its Master_Down_Timer.
/// </summary>
[Collection(NetworkScenariosCollection.Name)]
[Trait("Category", "Root")]
public sealed class JunkRobustnessScenario(ITestOutputHelper output)
{
    [Fact]
    public async Task A_backup_beside_a_live_master_ignores_ten_invalid_adverts_a_second()
    {
        using var files = new ScenarioFiles();
        await using var lan = await Lan.CreateAsync(output.WriteLine, "lb1", "lb2", "client");
        var (lb1, lb2, client) = (lan.Host("lb1"), lan.Host("lb2"), lan.Host("client"));
        StartVipProxy(lb1, files, Instance(lb1, 150, extra: PassAuth));
        StartVipProxy(lb2, files, Instance(lb2, 100, extra: PassAuth));
        await WaitForVipAsync(lb1, held: true, TimeSpan.FromSeconds(15));

        using var socket = OpenInNamespace(client);
        using var stop = new CancellationTokenSource();
        var junk = Task.Run(async () =>
        {
            var junkPackets = JunkFrom(client.Address);
            using var tenPerSecond = new PeriodicTimer(TimeSpan.FromMilliseconds(100));
            int sent = 0;
            try
            {
                while (await tenPerSecond.WaitForNextTickAsync(stop.Token))
                {
                    socket.Send(junkPackets[sent % junkPackets.Count], VrrpCodec.MulticastGroup);
                    sent++;
                }
            }
            catch (OperationCanceledException)
            {
                // Done.
            }

            return sent;
        });

        await AssertVipStaysAsync(lb1, lb2, TimeSpan.FromSeconds(8));
        await stop.CancelAsync();
        output.WriteLine($"{await junk} invalid datagrams sent; lb2 never took the VIP");
    }

    /// <summary>A higher priority each time, but never acceptable: wrong password, bad checksum, TTL 64, truncated.</summary>
    private static List<byte[]> JunkFrom(IPAddress source)
    {
        VrrpPacket Advert(string password) => new()
        {
            Version = VrrpVersion.V2, VirtualRouterId = 51, Priority = 254, AdvertisementInterval = TimeSpan.FromSeconds(1),
            Addresses = [Vip], AuthType = VrrpAuthType.SimplePassword, AuthData = [.. VrrpAuthenticationData.NormalizePassword(password)],
        };
        var wrongPassword = VrrpCodec.EncodeIPv4DatagramToArray(Advert("wrong"), source, VrrpCodec.MulticastGroup);
        var badChecksum = VrrpCodec.EncodeIPv4DatagramToArray(Advert("secret1"), source, VrrpCodec.MulticastGroup);
        badChecksum[26] ^= 0xFF;
        var lowTtl = VrrpCodec.EncodeIPv4DatagramToArray(Advert("secret1"), source, VrrpCodec.MulticastGroup, timeToLive: 64);
        // 4 bytes short: the VRRP message no longer matches its address count. (Editing the IP total length would not
        // do: with IP_HDRINCL the kernel rewrites it from the actual size.)
        var truncated = VrrpCodec.EncodeIPv4DatagramToArray(Advert("secret1"), source, VrrpCodec.MulticastGroup)[..^4];
        return [wrongPassword, badChecksum, lowTtl, truncated];
    }

    /// <summary>The product's raw socket, opened in the client's namespace from a thread that joined it.</summary>
    internal static IVrrpSocket OpenInNamespace(LanHost host)
    {
        IVrrpSocket? socket = null;
        Exception? error = null;
        var thread = new Thread(() =>
        {
            try
            {
                using var handle = File.OpenHandle("/run/netns/" + host.NamespaceName);
                if (LibC.setns((int)handle.DangerousGetHandle(), 0x40000000 /* CLONE_NEWNET */) != 0)
                {
                    throw new SocketException(LibC.errno);
                }

                using var netlink = NetlinkRoute.Open();
                var link = netlink.GetLinks().Single(l => l.Name == host.Interfaces[0].Name);
                socket = RawVrrpSocket.Open(new VrrpSocketOptions(link.Name, link.Index, host.Address, VrrpCodec.MulticastGroup));
            }
            catch (Exception e) when (e is SocketException or IOException or InvalidOperationException)
            {
                error = e;
            }
        });
        thread.Start();
        thread.Join();
        return socket ?? throw new InvalidOperationException("opening the raw socket failed", error);
    }
}
