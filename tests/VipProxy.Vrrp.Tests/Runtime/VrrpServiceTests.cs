using System.Net;
using Microsoft.Extensions.Time.Testing;
using VipProxy.Vrrp.Linux;
using VipProxy.Vrrp.Protocol;
using VipProxy.Vrrp.Runtime;
using VipProxy.Vrrp.Tests.Support;
using static VipProxy.Vrrp.Tests.Support.TestConfig;

namespace VipProxy.Vrrp.Tests.Runtime;

/// <summary>The driver and service on fake adapters and a fake clock: what reaches the kernel, in which order, when.</summary>
public sealed class VrrpServiceTests
{
    private static readonly IPAddress Vip = IPAddress.Parse("198.18.0.100");
    private static readonly IPAddress Peer = IPAddress.Parse("198.18.0.2");

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero));
    private readonly FakeAdapters _adapters = FakeAdapters.WithEth0();

    private VrrpService Service(Config.Model.KeepalivedConfig config) => new(config, Logs, _time, _adapters);

    private VrrpInstanceStatus Status(VrrpService service, string name = "VI_1") => service.GetStatus().Single(s => s.Name == name);

    private FakeVrrpSocket Socket => _adapters.Sockets["eth0"];

    private static byte[] Advert(byte priority, IPAddress source, byte vrid = 51, string? password = null, int ttl = 255)
    {
        var packet = new VrrpPacket
        {
            Version = VrrpVersion.V2,
            VirtualRouterId = vrid,
            Priority = priority,
            AdvertisementInterval = TimeSpan.FromSeconds(1),
            Addresses = [Vip],
            AuthType = password is null ? VrrpAuthType.None : VrrpAuthType.SimplePassword,
            AuthData = password is null ? [] : [.. VrrpAuthenticationData.NormalizePassword(password)],
        };
        return VrrpCodec.EncodeIPv4DatagramToArray(packet, source, VrrpCodec.MulticastGroup, (byte)ttl);
    }

    [Fact]
    public async Task Start_removes_a_stale_VIP_then_becomes_master_after_Master_Down_Interval_and_claims_the_VIP()
    {
        _adapters.Netlink.AddAddress(2, new AddressRequest(Vip, 24, null, 0, "eth0:vip")); // left by kill -9
        await using var service = Service(Instance());
        await service.StartAsync(default);

        Assert.Equal("BACKUP", Status(service).State);
        Assert.DoesNotContain(Vip, _adapters.Netlink.AddressesOf(2));

        // v2, priority 100: 3 × 1 s + (256 − 100)/256 s = 3.609375 s.
        _time.Advance(TimeSpan.FromSeconds(3.6));
        Assert.Equal("BACKUP", Status(service).State);
        _time.Advance(TimeSpan.FromMilliseconds(10));

        var status = Status(service);
        Assert.Equal("MASTER", status.State);
        Assert.Equal(["198.18.0.100"], status.VipsHeld);
        Assert.Equal("198.18.0.1", status.MasterAddress);
        var added = _adapters.Netlink.Find(Vip);
        Assert.NotNull(added);
        Assert.Equal(24, added.PrefixLength);
        Assert.Equal("eth0:vip", added.Label);
        // Stale TIME_WAIT sockets on the VIP are dropped as it arrives, once (see ITimeWaitReaper).
        Assert.Equal([Vip], _adapters.TimeWait.Calls.Single());

        // The advert: IPv4 header by us (IP_HDRINCL), TTL 255, source = primary, to 224.0.0.18, priority 100.
        var (datagram, destination) = Socket.Sent.Single();
        Assert.Equal(VrrpCodec.MulticastGroup, destination);
        Assert.Equal(255, datagram[8]);
        var decoded = VrrpCodec.Decode(datagram);
        Assert.True(decoded.IsAccepted);
        Assert.Equal(IPAddress.Parse("198.18.0.1"), decoded.Advertisement!.Source);
        Assert.Equal(100, decoded.Advertisement.Packet.Priority);

        // keepalived's default burst: 5 gratuitous ARPs now, 5 more after garp_master_delay (5 s).
        Assert.Equal(5, _adapters.Arp.Sent.Count);
        for (int i = 0; i < 5; i++)
        {
            _time.Advance(TimeSpan.FromSeconds(1));
        }

        Assert.Equal(10, _adapters.Arp.Sent.Count);
        Assert.Equal(6, Socket.Sent.Count); // one advert per second
    }

    [Fact]
    public async Task A_higher_priority_master_keeps_the_instance_backup_while_junk_beside_it_is_only_counted()
    {
        await using var service = Service(Instance());
        await service.StartAsync(default);

        for (int second = 0; second < 10; second++)
        {
            Socket.Deliver(Advert(200, Peer));
            for (int i = 0; i < 10; i++)
            {
                Socket.Deliver(Advert(200, Peer, password: "wrong")); // auth type mismatch
                Socket.Deliver([0x45, 0, 0, 20]); // undecodable
            }

            long expected = second + 1;
            await Eventually.TrueAsync(() => Status(service).AdvertsReceived == expected, TimeSpan.FromSeconds(5), "advert " + expected, TestConfig.PollInterval);
            _time.Advance(TimeSpan.FromSeconds(1));
        }

        var status = Status(service);
        Assert.Equal("BACKUP", status.State);
        Assert.Equal("198.18.0.2", status.MasterAddress);
        Assert.Empty(status.VipsHeld);
        await Eventually.TrueAsync(() => Status(service).DropCounters.GetValueOrDefault("AuthTypeMismatch") == 100, TimeSpan.FromSeconds(5), "auth drops", TestConfig.PollInterval);
        Assert.Equal(100, Status(service).DropCounters["socket.MalformedIPHeader"]);
    }

    [Fact]
    public async Task Adverts_of_other_VRIDs_and_with_TTL_below_255_do_not_keep_a_backup_from_taking_over()
    {
        await using var service = Service(Instance());
        await service.StartAsync(default);
        for (int i = 0; i < 4; i++)
        {
            Socket.Deliver(Advert(200, Peer, vrid: 52));
            Socket.Deliver(Advert(200, Peer, ttl: 64));
            await Eventually.TrueAsync(() => Status(service).DropCounters.GetValueOrDefault("TtlNot255") == i + 1, TimeSpan.FromSeconds(5), "ttl drop", TestConfig.PollInterval);
            _time.Advance(TimeSpan.FromSeconds(1));
        }

        var status = Status(service);
        Assert.Equal("MASTER", status.State);
        Assert.Equal(4, status.DropCounters["socket.WrongVirtualRouterId"]);
    }

    [Fact]
    public async Task Losing_the_carrier_of_the_instance_interface_is_Fault_a_master_sends_priority_0_and_drops_the_VIP()
    {
        await using var service = Service(Instance("notify_fault \"/bin/fault.sh\""));
        await service.StartAsync(default);
        _time.Advance(TimeSpan.FromSeconds(4));
        Assert.Equal("MASTER", Status(service).State);

        _adapters.Netlink.SetLink("eth0", up: false);
        await Eventually.TrueAsync(() => Status(service).State == "FAULT", TimeSpan.FromSeconds(5), "fault", TestConfig.PollInterval);

        var last = VrrpCodec.Decode(Socket.Sent[^1].Datagram).Advertisement!;
        Assert.Equal(0, last.Packet.Priority);
        Assert.DoesNotContain(Vip, _adapters.Netlink.AddressesOf(2));
        await Eventually.TrueAsync(() => _adapters.Scripts.Runs.Any(r => r.Arguments[0] == "/bin/fault.sh"), TimeSpan.FromSeconds(5), "notify_fault", TestConfig.PollInterval);

        _adapters.Netlink.SetLink("eth0", up: true);
        await Eventually.TrueAsync(() => Status(service).State == "BACKUP", TimeSpan.FromSeconds(5), "leaving fault", TestConfig.PollInterval);
    }

    [Fact]
    public async Task With_dont_track_primary_a_down_interface_is_not_a_fault_but_a_tracked_one_is()
    {
        _adapters.Netlink.AddLink(3, "eth1", up: true);
        await using var service = Service(Instance("dont_track_primary\n track_interface {\n eth1\n }"));
        await service.StartAsync(default);
        var eth0Down = Link(2, "eth0", up: false);

        // The link reports go in directly (as the watcher would pass them), so each assertion follows a change
        // that was applied, not a delay that may have passed before the watcher ran.
        service.OnLinks([eth0Down, Link(3, "eth1", up: true)]);
        Assert.Equal("BACKUP", Status(service).State);

        service.OnLinks([Link(3, "eth1", up: false)]);
        Assert.Equal("FAULT", Status(service).State);

        // eth1 back while eth0 is still down: leaving Fault shows the primary's state does not count.
        service.OnLinks([Link(3, "eth1", up: true)]);
        Assert.Equal("BACKUP", Status(service).State);
        Assert.Equal(100, Status(service).EffectivePriority);
    }

    [Fact]
    public async Task A_VIP_with_its_own_dev_is_announced_by_gratuitous_ARP_on_that_interface()
    {
        _adapters.Netlink.AddLink(3, "eth1", up: true);
        var backVip = IPAddress.Parse("198.18.1.100");
        await using var service = Service(Instance("virtual_ipaddress_excluded {\n 198.18.1.100/24 dev eth1\n }"));
        await service.StartAsync(default);
        _time.Advance(TimeSpan.FromSeconds(4));
        Assert.Equal("MASTER", Status(service).State);

        // keepalived's first burst of 5, each VIP on its own interface.
        Assert.Equal(Enumerable.Repeat(Vip, 5), _adapters.Arp.Sent);
        Assert.Equal(Enumerable.Repeat(backVip, 5), _adapters.OtherArp[3].Sent);
    }

    [Fact]
    public async Task An_instance_with_only_excluded_VIPs_adds_them_as_master_and_removes_them_when_it_stops()
    {
        var excluded = IPAddress.Parse("198.18.0.200");
        var service = Service(Parse("""
            vrrp_instance VI_1 {
                interface eth0
                virtual_router_id 51
                virtual_ipaddress_excluded {
                    198.18.0.200/24 label eth0:ex
                }
            }
            """));
        await service.StartAsync(default);
        _time.Advance(TimeSpan.FromSeconds(4));

        Assert.Equal("MASTER", Status(service).State);
        Assert.Equal(["198.18.0.200"], Status(service).VipsHeld);
        Assert.Equal("eth0:ex", _adapters.Netlink.Find(excluded)?.Label);
        Assert.Equal(Enumerable.Repeat(excluded, 5), _adapters.Arp.Sent);
        Assert.Empty(VrrpCodec.Decode(Socket.Sent[^1].Datagram).Advertisement!.Packet.Addresses);

        await service.StopAsync(default);
        Assert.DoesNotContain(excluded, _adapters.Netlink.AddressesOf(2));
        await service.DisposeAsync();
    }

    [Fact]
    public async Task A_weighted_tracked_interface_changes_the_effective_priority()
    {
        _adapters.Netlink.AddLink(3, "eth1", up: true);
        await using var service = Service(Instance("track_interface {\n eth1 weight -30\n }"));
        await service.StartAsync(default);
        Assert.Equal(100, Status(service).EffectivePriority);

        _adapters.Netlink.SetLink("eth1", up: false);
        await Eventually.TrueAsync(() => Status(service).EffectivePriority == 70, TimeSpan.FromSeconds(5), "priority 70", TestConfig.PollInterval);
        Assert.Equal("BACKUP", Status(service).State);
    }

    [Fact]
    public async Task An_instance_whose_interface_is_down_at_start_starts_in_Fault()
    {
        _adapters.Netlink.SetLink("eth0", up: false);
        await using var service = Service(Instance());
        await service.StartAsync(default);
        Assert.Equal("FAULT", Status(service).State);
    }

    [Fact]
    public async Task Service_health_lost_puts_the_master_in_Fault_and_regained_returns_it_to_the_election()
    {
        await using var service = Service(Instance());
        await service.StartAsync(default);
        _time.Advance(TimeSpan.FromSeconds(4));
        Assert.Equal("MASTER", Status(service).State);

        service.SetServiceHealth("VI_1", healthy: false);
        Assert.Equal("FAULT", Status(service).State);
        Assert.Empty(Status(service).VipsHeld);

        service.SetServiceHealth("VI_1", healthy: true);
        Assert.Equal("BACKUP", Status(service).State);
        _time.Advance(TimeSpan.FromSeconds(4));
        Assert.Equal("MASTER", Status(service).State);
    }

    [Fact]
    public async Task Service_health_is_ignored_with_dont_track_virtual_servers()
    {
        await using var service = Service(Instance("dont_track_virtual_servers"));
        await service.StartAsync(default);
        service.SetServiceHealth("VI_1", healthy: false);
        Assert.Equal("BACKUP", Status(service).State);
    }

    [Fact]
    public async Task Stop_sends_priority_0_removes_the_VIP_and_runs_notify_stop_then_notify_with_keepalived_arguments()
    {
        var service = Service(Instance("notify_stop \"/bin/stop.sh\"\n notify \"/bin/notify.sh x\""));
        await service.StartAsync(default);
        _time.Advance(TimeSpan.FromSeconds(4));

        await service.StopAsync(default);

        Assert.Equal(0, VrrpCodec.Decode(Socket.Sent[^1].Datagram).Advertisement!.Packet.Priority);
        Assert.DoesNotContain(Vip, _adapters.Netlink.AddressesOf(2));
        Assert.True(Socket.Disposed);
        var runs = _adapters.Scripts.Runs.Select(r => string.Join(' ', r.Arguments)).ToList();
        Assert.Equal(
            ["/bin/notify.sh x INSTANCE VI_1 BACKUP 100", "/bin/notify.sh x INSTANCE VI_1 MASTER 100", "/bin/stop.sh", "/bin/notify.sh x INSTANCE VI_1 STOP 100"],
            runs);
        Assert.Empty(service.GetStatus());
        await service.DisposeAsync();
    }

    [Theory]
    [InlineData("", null)]
    [InlineData("global_defs {\n script_user nobody\n }", "nobody")]
    public async Task Scripts_run_as_script_user_or_leave_the_default_account_to_the_runner(string globalDefs, string? expectedUser)
    {
        await using var service = Service(Instance("notify_backup \"/bin/backup.sh\"", outside: globalDefs));
        await service.StartAsync(default);
        await Eventually.TrueAsync(() => _adapters.Scripts.Runs.Count == 1, TimeSpan.FromSeconds(5), "notify_backup", TestConfig.PollInterval);
        Assert.Equal(expectedUser, _adapters.Scripts.Runs[0].User?.User);
    }

    [Fact]
    public async Task Unicast_mode_sends_one_advert_per_peer_and_drops_adverts_from_strangers()
    {
        await using var service = Service(Instance("unicast_src_ip 198.18.0.1\n unicast_peer {\n 198.18.0.2\n 198.18.0.3\n }"));
        await service.StartAsync(default);

        Socket.Deliver(Advert(200, IPAddress.Parse("198.18.0.9")));
        await Eventually.TrueAsync(() => Status(service).DropCounters.GetValueOrDefault("SourceNotUnicastPeer") == 1, TimeSpan.FromSeconds(5), "stranger dropped", TestConfig.PollInterval);
        _time.Advance(TimeSpan.FromSeconds(4));

        Assert.Equal("MASTER", Status(service).State);
        Assert.Equal([IPAddress.Parse("198.18.0.2"), IPAddress.Parse("198.18.0.3")], Socket.Sent.Select(s => s.Destination));
        foreach (var (datagram, destination) in Socket.Sent)
        {
            Assert.Equal(destination, VrrpCodec.Decode(datagram).Advertisement!.Destination);
        }
    }

    [Fact]
    public async Task A_zero_weight_script_failing_fall_times_is_Fault_and_rise_successes_leave_it()
    {
        bool healthy = true;
        _adapters.Scripts.Outcome = r => r.Arguments[0] == "/bin/check" && !healthy ? VrrpScriptResult.Failed : VrrpScriptResult.Succeeded;
        await using var service = Service(Instance(
            "track_script {\n chk\n }",
            outside: "vrrp_script chk {\n script \"/bin/check --fast\"\n interval 1\n fall 2\n rise 2\n }"));
        await service.StartAsync(default);
        await Eventually.TrueAsync(() => _adapters.Scripts.Runs.Count >= 1, TimeSpan.FromSeconds(5), "first run", TestConfig.PollInterval);
        Assert.Equal(["/bin/check", "--fast"], _adapters.Scripts.Runs[0].Arguments);

        healthy = false;
        await AdvanceUntil(() => Status(service).State == "FAULT", "fault after two failures");
        healthy = true;
        await AdvanceUntil(() => Status(service).State == "BACKUP", "backup after two successes");
    }

    [Fact]
    public async Task A_positive_weight_script_adds_its_weight_while_it_succeeds()
    {
        await using var service = Service(Instance(
            "track_script {\n chk weight 20\n }",
            outside: "vrrp_script chk {\n script \"/bin/check\"\n interval 1\n weight 5\n }"));
        await service.StartAsync(default);
        Assert.Equal(120, Status(service).EffectivePriority); // the instance's weight overrides the script's
    }

    [Fact]
    public async Task Reload_keeps_an_unchanged_instance_untouched_restarts_a_changed_one_stops_removed_and_starts_new()
    {
        var config = Parse("""
            vrrp_instance A {
                interface eth0
                virtual_router_id 51
                virtual_ipaddress {
                    198.18.0.100/24
                }
            }
            vrrp_instance B {
                interface eth0
                virtual_router_id 52
                virtual_ipaddress {
                    198.18.0.101/24
                }
            }
            vrrp_instance C {
                interface eth0
                virtual_router_id 53
                virtual_ipaddress {
                    198.18.0.102/24
                }
            }
            """);
        await using var service = Service(config);
        await service.StartAsync(default);
        _time.Advance(TimeSpan.FromSeconds(4));
        Assert.All(service.GetStatus(), s => Assert.Equal("MASTER", s.State));
        int netlinkCalls = _adapters.Netlink.Log.Count;

        var next = Parse("""
            vrrp_instance A {
                interface eth0
                virtual_router_id 51
                virtual_ipaddress {
                    198.18.0.100/24
                }
            }
            vrrp_instance B {
                interface eth0
                virtual_router_id 52
                priority 150
                virtual_ipaddress {
                    198.18.0.101/24
                }
            }
            vrrp_instance D {
                interface eth0
                virtual_router_id 54
                virtual_ipaddress {
                    198.18.0.103/24
                }
            }
            """);
        await service.ApplyConfigAsync(next, default);

        var status = service.GetStatus();
        Assert.Equal(["A", "B", "D"], status.Select(s => s.Name));
        Assert.Equal("MASTER", status[0].State);
        Assert.Equal(1, status[0].Transitions - 1); // Initialize→Backup→Master, nothing since
        Assert.Equal("BACKUP", status[1].State);
        Assert.Equal(150, status[1].ConfiguredPriority);
        Assert.Equal("BACKUP", status[2].State);
        var changes = _adapters.Netlink.Log.Skip(netlinkCalls).ToList();
        Assert.DoesNotContain(changes, c => c.Contains("198.18.0.100", StringComparison.Ordinal));
        Assert.Contains("del 198.18.0.102/24 on 2", changes);
        Assert.Contains(IPAddress.Parse("198.18.0.100"), _adapters.Netlink.AddressesOf(2));
        Assert.DoesNotContain(IPAddress.Parse("198.18.0.101"), _adapters.Netlink.AddressesOf(2));
        Assert.Equal("D", service.InstanceForAddress(IPAddress.Parse("198.18.0.103")));
        Assert.Null(service.InstanceForAddress(IPAddress.Parse("198.18.0.102")));
    }

    [Fact]
    public async Task Reload_closes_the_ARP_socket_of_another_device_once_no_instance_names_it()
    {
        _adapters.Netlink.AddLink(3, "eth1", up: true);
        const string InstanceB = """
            vrrp_instance B {
                interface eth0
                virtual_router_id 52
                virtual_ipaddress {
                    198.18.0.101/24
                }
            }
            """;
        const string InstanceAWithEth1 = """
            vrrp_instance A {
                interface eth0
                virtual_router_id 51
                virtual_ipaddress {
                    198.18.0.100/24
                    198.18.1.100/24 dev eth1
                }
            }
            """;
        await using var service = Service(Parse(InstanceAWithEth1 + InstanceB));
        await service.StartAsync(default);
        var eth1Arp = _adapters.OtherArp[3];

        // Still named (A changed, restarted with its eth1 VIP): the socket stays open.
        await service.ApplyConfigAsync(Parse(InstanceAWithEth1.Replace("virtual_router_id 51", "virtual_router_id 51\n priority 90", StringComparison.Ordinal) + InstanceB), default);
        Assert.Equal(0, eth1Arp.DisposeCount);

        await service.ApplyConfigAsync(Parse(InstanceB), default);
        Assert.Equal(1, eth1Arp.DisposeCount);
        Assert.Equal(0, _adapters.Arp.DisposeCount); // eth0's hub still serves B

        await service.StopAsync(default);
        Assert.Equal(1, eth1Arp.DisposeCount); // not closed twice
    }

    [Fact]
    public async Task An_instance_on_a_missing_interface_is_reported_as_ERROR_and_the_others_run()
    {
        var config = Parse("""
            vrrp_instance A {
                interface eth9
                virtual_router_id 51
            }
            vrrp_instance B {
                interface eth0
                virtual_router_id 52
            }
            """);
        await using var service = Service(config);
        await service.StartAsync(default);
        Assert.Equal(["ERROR", "BACKUP"], service.GetStatus().Select(s => s.State));
    }

    [Fact]
    public async Task An_address_owner_keeps_its_VIP_at_start_and_is_master_at_once()
    {
        _adapters.Netlink.AddAddress(2, new AddressRequest(Vip, 24, null, 0, null));
        await using var service = Service(Instance(priority: 255));
        await service.StartAsync(default);
        Assert.Equal("MASTER", Status(service).State);
        Assert.DoesNotContain(_adapters.Netlink.Log, l => l.StartsWith("del", StringComparison.Ordinal));
    }

    [Fact]
    public async Task With_garp_interval_a_burst_is_spread_out_and_stops_when_the_instance_leaves_master()
    {
        await using var service = Service(Instance("garp_master_repeat 4\n garp_interval 0.5\n garp_master_delay 0"));
        await service.StartAsync(default);
        _time.Advance(TimeSpan.FromSeconds(3.7));
        Assert.Equal("MASTER", Status(service).State);
        Assert.Single(_adapters.Arp.Sent);

        for (int i = 0; i < 200 && _adapters.Arp.Sent.Count < 2; i++)
        {
            _time.Advance(TimeSpan.FromMilliseconds(50));
            await Task.Delay(2);
        }

        Assert.Equal(2, _adapters.Arp.Sent.Count);
        service.SetServiceHealth("VI_1", healthy: false); // Fault: the rest of the burst is cancelled
        for (int i = 0; i < 40; i++)
        {
            _time.Advance(TimeSpan.FromMilliseconds(100));
            await Task.Delay(2);
        }

        Assert.Equal(2, _adapters.Arp.Sent.Count);
    }

    private static LinkState Link(int index, string name, bool up) => new(index, name, up, new byte[] { 2, 0, 0, 0, 0, (byte)index });

    private async Task AdvanceUntil(Func<bool> condition, string what)
    {
        for (int i = 0; i < 100 && !condition(); i++)
        {
            int runs = _adapters.Scripts.Runs.Count;
            _time.Advance(TimeSpan.FromSeconds(1));
            await Eventually.TrueAsync(() => _adapters.Scripts.Runs.Count > runs, TimeSpan.FromSeconds(5), "next script run", TestConfig.PollInterval);
            await Task.Delay(5);
        }

        Assert.True(condition(), what);
    }
}
