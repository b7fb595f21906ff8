using System.Diagnostics;
using System.Net;
using System.Text.Json;
using VipProxy.Lab;
using VipProxy.Vrrp.Protocol;
using Xunit.Abstractions;
using static VipProxy.Scenario.Tests.Vrrp;

namespace VipProxy.Scenario.Tests;

/// <summary>
/// Issue #7, hostile input on the wire: a VipProxy pair in unicast mode (<c>unicast_peer</c>) and an attacker on the
/// same LAN that forges adverts with a raw IP_HDRINCL socket (its own TTL, any source address) for a bounded time at
/// a bounded rate, at the master, at the backup and at the VRRP group. The master must stay master, the VIP must not
/// move, and each node's status must count each kind of forgery under its drop reason.
/// <para>
/// Unicast mode is where the interesting case lies: keepalived does not check the TTL of unicast adverts (peers may
/// sit behind a router) and accepts adverts only from the listed peers (with <c>vrrp_check_unicast_src</c>; VipProxy
/// always checks). So a priority-254 advert from a stranger must be dropped as <c>SourceNotUnicastPeer</c> whatever
/// its TTL, and one spoofing the peer's address can only be stopped by the password it does not know.
/// </para>
/// </summary>
[Collection(NetworkScenariosCollection.Name)]
[Trait("Category", "Root")]
public sealed class UnicastSpoofingScenario(ITestOutputHelper output)
{
    private static readonly TimeSpan Barrage = TimeSpan.FromSeconds(6);
    private static readonly TimeSpan Period = TimeSpan.FromMilliseconds(20); // 50 forged datagrams a second
    private const int MaxDatagrams = 400;

    [Fact]
    public async Task Forged_and_spoofed_adverts_at_a_unicast_pair_are_counted_and_move_nothing()
    {
        using var files = new ScenarioFiles();
        await using var lan = await Lan.CreateAsync(output.WriteLine, "lb1", "lb2", "attacker");
        var (lb1, lb2, attacker) = (lan.Host("lb1"), lan.Host("lb2"), lan.Host("attacker"));
        StartVipProxy(lb1, files, Instance(lb1, 150, extra: PassAuth + Unicast(lb1, lb2)));
        StartVipProxy(lb2, files, Instance(lb2, 100, extra: PassAuth + Unicast(lb2, lb1)));
        await WaitForVipAsync(lb1, held: true, TimeSpan.FromSeconds(15));
        await WaitForStateAsync(lb2, files, "BACKUP");
        var before = await StatusAsync(lb1, files);
        var backupBefore = await StatusAsync(lb2, files);
        Assert.Equal("MASTER", before.State);

        var forgeries = Forgeries(attacker.Address, lb1.Address, lb2.Address);
        using var socket = JunkRobustnessScenario.OpenInNamespace(attacker);
        using var stop = new CancellationTokenSource(Barrage);
        var barrage = Task.Run(async () =>
        {
            using var timer = new PeriodicTimer(Period);
            int sent = 0;
            try
            {
                while (sent < MaxDatagrams && await timer.WaitForNextTickAsync(stop.Token))
                {
                    var forgery = forgeries[sent % forgeries.Count];
                    socket.Send(forgery.Datagram, forgery.Destination);
                    sent++;
                }
            }
            catch (OperationCanceledException)
            {
                // Barrage over.
            }

            return sent;
        });

        // Poll both nodes for the whole barrage and a little after: the VIP stays on lb1, never on lb2.
        var watch = Stopwatch.StartNew();
        while ((!barrage.IsCompleted || watch.Elapsed < Barrage + TimeSpan.FromSeconds(1)) && watch.Elapsed < Barrage * 3)
        {
            Assert.True(await HoldsVipAsync(lb1), $"lb1 lost the VIP after {watch.Elapsed}");
            Assert.False(await HoldsVipAsync(lb2), $"lb2 took the VIP after {watch.Elapsed}");
            await Task.Delay(100);
        }

        Assert.True(barrage.IsCompleted, "the barrage did not stop by itself");
        int sent = await barrage;
        var after = await StatusAsync(lb1, files);
        output.WriteLine($"{sent} forged datagrams in {Barrage.TotalSeconds} s; lb1 drop counters: {after.Drops}");
        Assert.True(sent >= forgeries.Count * 10, $"only {sent} sent");

        Assert.Equal("MASTER", after.State);
        Assert.Equal(before.Transitions, after.Transitions);
        Assert.NotEmpty(after.VipsHeld);
        Assert.Equal(before.VipsHeld, after.VipsHeld);
        var backupAfter = await StatusAsync(lb2, files);
        output.WriteLine($"lb2 drop counters: {backupAfter.Drops}");
        Assert.Equal("BACKUP", backupAfter.State);
        Assert.Equal(backupBefore.Transitions, backupAfter.Transitions);

        // Each kind rose by exactly the number of times it was sent, on the node it was sent to (the master's real
        // adverts are valid, so they add nothing to the backup's drop counters).
        foreach (var (node, statusBefore, statusAfter) in new[] { ("lb1", before, after), ("lb2", backupBefore, backupAfter) })
        {
            foreach (var group in forgeries.Where(f => f.Nodes.Split(' ').Contains(node)).GroupBy(f => f.Counter))
            {
                long expected = group.Sum(f => (long)Enumerable.Range(0, sent).Count(i => forgeries[i % forgeries.Count] == f));
                long rose = statusAfter.Counter(group.Key) - statusBefore.Counter(group.Key);
                Assert.True(rose == expected, $"{node} {group.Key}: rose by {rose}, expected {expected} ({statusAfter.Drops})");
            }
        }

        // Unicast mode does not check TTL (keepalived parity), so no forgery may be counted as TtlNot255.
        Assert.Equal(0, after.Counter(nameof(DropReason.TtlNot255)));
        Assert.Equal(0, backupAfter.Counter(nameof(DropReason.TtlNot255)));
    }

    private static string Unicast(LanHost self, LanHost peer) =>
        $"\n unicast_src_ip {self.Address}\n unicast_peer {{\n {peer.Address}\n }}\n";

    /// <summary>One forged datagram, where it goes, and the status counter of which node it must land in.</summary>
    private sealed record Forgery(string Name, byte[] Datagram, IPAddress Destination, string Nodes, string Counter);

    private static List<Forgery> Forgeries(IPAddress attacker, IPAddress master, IPAddress peer)
    {
        VrrpPacket Advert(byte vrid, string? password, byte priority) => new()
        {
            Version = VrrpVersion.V2, VirtualRouterId = vrid, Priority = priority, AdvertisementInterval = TimeSpan.FromSeconds(1),
            Addresses = [Vip], AuthType = password is null ? VrrpAuthType.None : VrrpAuthType.SimplePassword,
            AuthData = password is null ? [] : [.. VrrpAuthenticationData.NormalizePassword(password)],
        };

        // IP_HDRINCL: the kernel keeps our source, destination and TTL as written.
        byte[] Datagram(IPAddress source, IPAddress destination, byte ttl, byte vrid = 51, string? password = "secret1", byte priority = 254)
        {
            var bytes = new byte[64];
            int length = VrrpCodec.EncodeIPv4Datagram(Advert(vrid, password, priority), source, destination, bytes, ttl);
            return bytes[..length];
        }

        var badChecksum = Datagram(peer, master, 255);
        badChecksum[^1] ^= 0x5A;
        var group = VrrpCodec.MulticastGroup;
        return
        [
            // At the master, unicast as its peer sends.
            new("TTL 64 from the attacker", Datagram(attacker, master, 64), master, "lb1", nameof(DropReason.SourceNotUnicastPeer)),
            new("priority 254 from a non-peer, right password", Datagram(attacker, master, 255), master, "lb1", nameof(DropReason.SourceNotUnicastPeer)),
            new("wrong auth_pass, spoofing the peer", Datagram(peer, master, 255, password: "guess"), master, "lb1", nameof(DropReason.AuthPasswordMismatch)),
            new("priority 254 spoofing the peer, TTL 64, wrong auth_pass", Datagram(peer, master, 64, password: "secret2"), master, "lb1", nameof(DropReason.AuthPasswordMismatch)),
            new("no auth, spoofing the peer", Datagram(peer, master, 255, password: null), master, "lb1", nameof(DropReason.AuthTypeMismatch)),
            new("wrong VRID", Datagram(peer, master, 255, vrid: 52), master, "lb1", "socket." + nameof(DropReason.WrongVirtualRouterId)),
            new("bad checksum, spoofing the peer", badChecksum, master, "lb1", "socket." + nameof(DropReason.BadChecksum)),

            // To the VRRP group: both nodes' sockets are still members in unicast mode.
            new("multicast priority 254 from a non-peer", Datagram(attacker, group, 255), group, "lb1 lb2", nameof(DropReason.SourceNotUnicastPeer)),

            // At the backup: a forged priority-0 "master leaving" would make it take over after Skew_Time.
            new("priority 0 spoofing the master, wrong auth_pass", Datagram(master, peer, 255, password: "guess", priority: 0), peer, "lb2", nameof(DropReason.AuthPasswordMismatch)),
            new("priority 0 from a non-peer, right password", Datagram(attacker, peer, 255, priority: 0), peer, "lb2", nameof(DropReason.SourceNotUnicastPeer)),
        ];
    }

    private static Task WaitForStateAsync(LanHost host, ScenarioFiles files, string state) =>
        Eventually.ValueAsync(() => StatusAsync(host, files), status => status.State == state, TimeSpan.FromSeconds(15),
            $"{host.Name} to reach {state}", TimeSpan.FromMilliseconds(200));

    /// <summary><c>vipproxy status --json</c> inside the host: what an operator sees.</summary>
    private static async Task<InstanceStatus> StatusAsync(LanHost host, ScenarioFiles files)
    {
        var result = (await RunVipProxyAsync(host, "status", "--json", "--socket", VipProxySocket(host, files))).EnsureSuccess("vipproxy status --json");
        using var document = JsonDocument.Parse(result.StandardOutput);
        var instance = document.RootElement.GetProperty("vrrp_instances").EnumerateArray().Single();
        return new InstanceStatus(
            instance.GetProperty("state").GetString()!,
            instance.GetProperty("transitions").GetInt64(),
            [.. instance.GetProperty("vips_held").EnumerateArray().Select(v => v.GetString()!)],
            instance.GetProperty("drop_counters").EnumerateObject().ToDictionary(c => c.Name, c => c.Value.GetInt64()));
    }

    private sealed record InstanceStatus(string State, long Transitions, IReadOnlyList<string> VipsHeld, Dictionary<string, long> DropCounters)
    {
        public string Drops => string.Join(", ", DropCounters.OrderBy(c => c.Key, StringComparer.Ordinal).Select(c => $"{c.Key}={c.Value}"));

        public long Counter(string name) => DropCounters.GetValueOrDefault(name);
    }
}
