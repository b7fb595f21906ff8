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
/// a bounded rate. The master must stay master, the VIP must not move, and the master's status must count each kind
/// of forgery under its drop reason.
/// <para>
/// Unicast mode is where the interesting case lies: keepalived does not check the TTL of unicast adverts (peers may
/// sit behind a router) and accepts adverts only from the listed peers (with <c>vrrp_check_unicast_src</c>; VipProxy
/// always checks). So a priority-254 advert from a stranger must be dropped as <c>SourceNotUnicastPeer</c> whatever
/// its TTL, and one spoofing the peer's address can only be stopped by the password it does not know.
/// </para>
/// </summary>
[Collection(NetworkScenariosCollection.Name)]
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
        Assert.Equal("MASTER", before.State);

        var forgeries = Forgeries(attacker.Address, lb2.Address, lb1.Address);
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
                    socket.Send(forgeries[sent % forgeries.Count].Datagram, lb1.Address); // unicast, as a peer would
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
        while (!barrage.IsCompleted || watch.Elapsed < Barrage + TimeSpan.FromSeconds(1))
        {
            Assert.True(await HoldsVipAsync(lb1), $"lb1 lost the VIP after {watch.Elapsed}");
            Assert.False(await HoldsVipAsync(lb2), $"lb2 took the VIP after {watch.Elapsed}");
            await Task.Delay(100);
        }

        int sent = await barrage;
        var after = await StatusAsync(lb1, files);
        output.WriteLine($"{sent} forged datagrams in {Barrage.TotalSeconds} s; lb1 drop counters: {after.Drops}");
        Assert.True(sent >= forgeries.Count * 10, $"only {sent} sent");

        Assert.Equal("MASTER", after.State);
        Assert.Equal(before.Transitions, after.Transitions);
        Assert.NotEmpty(after.VipsHeld);
        Assert.Equal(before.VipsHeld, after.VipsHeld);
        Assert.Equal("BACKUP", (await StatusAsync(lb2, files)).State);

        // Each kind rose by at least the number of times it was sent (the peer's real adverts add nothing here).
        foreach (var group in forgeries.GroupBy(f => f.Counter))
        {
            long expected = group.Sum(f => (long)Enumerable.Range(0, sent).Count(i => forgeries[i % forgeries.Count] == f));
            long rose = after.Counter(group.Key) - before.Counter(group.Key);
            Assert.True(rose == expected, $"{group.Key}: rose by {rose}, expected {expected} ({after.Drops})");
        }

        // Unicast mode does not check TTL (keepalived parity), so no forgery may be counted as TtlNot255.
        Assert.Equal(0, after.Counter(nameof(DropReason.TtlNot255)));
    }

    private static string Unicast(LanHost self, LanHost peer) =>
        $"\n unicast_src_ip {self.Address}\n unicast_peer {{\n {peer.Address}\n }}\n";

    /// <summary>One forged datagram and the status counter it must land in.</summary>
    private sealed record Forgery(string Name, byte[] Datagram, string Counter);

    private static List<Forgery> Forgeries(IPAddress attacker, IPAddress peer, IPAddress master)
    {
        VrrpPacket Advert(byte vrid, string? password) => new()
        {
            Version = VrrpVersion.V2, VirtualRouterId = vrid, Priority = 254, AdvertisementInterval = TimeSpan.FromSeconds(1),
            Addresses = [Vip], AuthType = password is null ? VrrpAuthType.None : VrrpAuthType.SimplePassword,
            AuthData = password is null ? [] : [.. VrrpAuthentication.NormalizePassword(password)],
        };

        byte[] Datagram(IPAddress source, byte ttl, byte vrid = 51, string? password = "secret1")
        {
            // To the master's address, as the peer sends (IP_HDRINCL: the kernel keeps our destination, source and TTL).
            var bytes = new byte[64];
            int length = VrrpCodec.EncodeIPv4Datagram(Advert(vrid, password), source, master, bytes, ttl);
            return bytes[..length];
        }

        var badChecksum = Datagram(peer, 255);
        badChecksum[^1] ^= 0x5A;
        return
        [
            new("TTL 64 from the attacker", Datagram(attacker, 64), nameof(DropReason.SourceNotUnicastPeer)),
            new("priority 254 from a non-peer, right password", Datagram(attacker, 255), nameof(DropReason.SourceNotUnicastPeer)),
            new("wrong auth_pass, spoofing the peer", Datagram(peer, 255, password: "guess"), nameof(DropReason.AuthPasswordMismatch)),
            new("priority 254 spoofing the peer, TTL 64, wrong auth_pass", Datagram(peer, 64, password: "secret2"), nameof(DropReason.AuthPasswordMismatch)),
            new("no auth, spoofing the peer", Datagram(peer, 255, password: null), nameof(DropReason.AuthTypeMismatch)),
            new("wrong VRID", Datagram(peer, 255, vrid: 52), "socket." + nameof(DropReason.WrongVirtualRouterId)),
            new("bad checksum, spoofing the peer", badChecksum, "socket." + nameof(DropReason.BadChecksum)),
        ];
    }

    private static async Task WaitForStateAsync(LanHost host, ScenarioFiles files, string state)
    {
        var watch = Stopwatch.StartNew();
        while ((await StatusAsync(host, files)).State != state)
        {
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(15), $"{host.Name} never reached {state}");
            await Task.Delay(200);
        }
    }

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
