using System.Collections.Immutable;
using System.Net;
using Microsoft.Extensions.Time.Testing;
using VipProxy.Forwarding.Persistence;
using VipProxy.Forwarding.Scheduling;
using VipProxy.Forwarding.Tests.Scheduling;

namespace VipProxy.Forwarding.Tests.Persistence;

public class PersistenceTableTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(300);
    private static readonly IPAddress ClientX = IPAddress.Parse("192.0.2.10");
    private static readonly IPAddress ClientY = IPAddress.Parse("192.0.2.20");

    private readonly FakeTimeProvider _clock = new();
    private readonly ImmutableArray<RealServerSnapshot> _servers = TestServers.WithWeights(1, 1, 1);

    [Fact]
    public void Keeps_a_client_on_its_server_although_the_scheduler_rotates()
    {
        PersistenceTable table = NewTable();
        IScheduler rr = new RoundRobinScheduler(_servers);

        PersistenceLease first = table.Acquire(ClientX, rr);
        Assert.Equal("A", first.Server?.Name);
        for (int i = 0; i < 10; i++)
        {
            PersistenceLease again = table.Acquire(ClientX, rr);
            Assert.Equal("A", again.Server?.Name);
            table.Release(again);
        }

        Assert.Equal("B", table.Acquire(ClientY, rr).Server?.Name); // rr only advanced for new clients
        Assert.Equal(2, table.Count);
    }

    [Fact]
    public void Expires_timeout_after_the_last_close_and_not_before()
    {
        PersistenceTable table = NewTable();
        IScheduler rr = new RoundRobinScheduler(_servers);
        table.Release(table.Acquire(ClientX, rr));

        _clock.Advance(Timeout - TimeSpan.FromMilliseconds(1));
        Assert.True(table.TryGetServer(ClientX, out string? server));
        Assert.Equal("A", server);

        _clock.Advance(TimeSpan.FromMilliseconds(1));
        Assert.False(table.TryGetServer(ClientX, out _));
        Assert.Equal(0, table.Count); // removed lazily by the lookup

        Assert.Equal("B", table.Acquire(ClientX, rr).Server?.Name); // a fresh pick
    }

    [Fact]
    public void Lives_while_connections_are_open_and_restarts_its_timeout_at_the_last_close()
    {
        PersistenceTable table = NewTable();
        IScheduler rr = new RoundRobinScheduler(_servers);
        PersistenceLease first = table.Acquire(ClientX, rr);
        PersistenceLease second = table.Acquire(ClientX, rr);

        _clock.Advance(Timeout * 10);
        Assert.Equal(0, table.Sweep());
        table.Release(first);
        _clock.Advance(Timeout * 10);
        Assert.True(table.TryGetServer(ClientX, out _)); // second still open

        table.Release(second);
        _clock.Advance(Timeout - TimeSpan.FromSeconds(1));
        Assert.Equal(0, table.Sweep());
        Assert.Equal("A", table.Acquire(ClientX, rr).Server?.Name); // a new connection re-arms the entry
    }

    [Fact]
    public void Sweep_removes_only_expired_entries()
    {
        PersistenceTable table = NewTable();
        IScheduler rr = new RoundRobinScheduler(_servers);
        table.Release(table.Acquire(ClientX, rr));
        _clock.Advance(TimeSpan.FromSeconds(100));
        table.Release(table.Acquire(ClientY, rr));
        PersistenceLease open = table.Acquire(IPAddress.Parse("192.0.2.30"), rr);

        _clock.Advance(Timeout - TimeSpan.FromSeconds(100));
        Assert.Equal(1, table.Sweep());
        Assert.Equal(2, table.Count);
        Assert.False(table.TryGetServer(ClientX, out _));
        Assert.True(table.TryGetServer(ClientY, out _));
        Assert.True(open.HasServer);
    }

    [Theory]
    [InlineData("255.255.255.0", "10.1.1.5", "10.1.1.77", true)]
    [InlineData("255.255.255.0", "10.1.1.5", "10.1.2.5", false)]
    [InlineData("255.255.0.0", "10.1.1.5", "10.1.2.5", true)]
    [InlineData("255.255.255.255", "10.1.1.5", "10.1.1.6", false)]
    public void Granularity_groups_clients_of_one_network(string netmask, string first, string second, bool shared)
    {
        PersistenceTable table = NewTable(PersistenceGranularity.FromNetmask(IPAddress.Parse(netmask)));
        IScheduler rr = new RoundRobinScheduler(_servers);
        string? a = table.Acquire(IPAddress.Parse(first), rr).Server?.Name;
        string? b = table.Acquire(IPAddress.Parse(second), rr).Server?.Name;
        Assert.Equal(shared, a == b);
        Assert.Equal(shared ? 1 : 2, table.Count);
    }

    [Theory]
    [InlineData("255.255.255.255", 32)]
    [InlineData("255.255.255.0", 24)]
    [InlineData("255.255.128.0", 17)]
    [InlineData("0.0.0.0", 0)]
    public void Netmasks_parse_to_prefix_lengths(string netmask, int prefix) =>
        Assert.Equal(prefix, PersistenceGranularity.FromNetmask(IPAddress.Parse(netmask)).IPv4PrefixLength);

    [Theory]
    [InlineData("255.0.255.0")]
    [InlineData("0.255.255.255")]
    [InlineData("::1")]
    public void Bad_netmasks_are_rejected(string netmask) =>
        Assert.Throws<ArgumentException>(() => PersistenceGranularity.FromNetmask(IPAddress.Parse(netmask)));

    [Fact]
    public void Dropping_a_server_removes_its_entries_at_once()
    {
        PersistenceTable table = NewTable();
        IScheduler rr = new RoundRobinScheduler(_servers);
        PersistenceLease x = table.Acquire(ClientX, rr); // A, still open
        table.Acquire(ClientY, rr); // B
        table.Acquire(IPAddress.Parse("192.0.2.30"), rr); // C
        table.Acquire(IPAddress.Parse("192.0.2.40"), rr); // A

        Assert.Equal(2, table.DropServer("A"));
        Assert.Equal(2, table.Count);
        Assert.False(table.TryGetServer(ClientX, out _));

        // The health side rebuilds the snapshot without A; the client gets a live server immediately.
        IScheduler withoutA = new RoundRobinScheduler([_servers[1], _servers[2]]);
        PersistenceLease moved = table.Acquire(ClientX, withoutA);
        Assert.NotEqual("A", moved.Server?.Name);

        // The old connection closing later must not disturb the new entry.
        table.Release(x);
        _clock.Advance(Timeout * 2);
        Assert.True(table.TryGetServer(ClientX, out string? now));
        Assert.Equal(moved.Server?.Name, now);
    }

    [Fact]
    public void A_sticky_server_missing_from_the_snapshot_is_replaced_even_before_it_is_dropped()
    {
        PersistenceTable table = NewTable();
        table.Release(table.Acquire(ClientX, new RoundRobinScheduler(_servers))); // A
        PersistenceLease lease = table.Acquire(ClientX, new RoundRobinScheduler([_servers[1], _servers[2]]));
        Assert.Equal("B", lease.Server?.Name);
        Assert.True(table.TryGetServer(ClientX, out string? server));
        Assert.Equal("B", server);
    }

    [Fact]
    public void A_sticky_server_drained_to_weight_zero_is_replaced()
    {
        PersistenceTable table = NewTable();
        table.Release(table.Acquire(ClientX, new RoundRobinScheduler(_servers))); // A
        var drained = ImmutableArray.Create(_servers[0].WithWeight(0), _servers[1], _servers[2]);
        Assert.Equal("B", table.Acquire(ClientX, new RoundRobinScheduler(drained)).Server?.Name);
    }

    [Fact]
    public void Redispatch_after_a_failed_connect_moves_the_entry_to_a_server_not_yet_tried()
    {
        PersistenceTable table = NewTable();
        IScheduler rr = new RoundRobinScheduler(_servers);
        table.Release(table.Acquire(ClientX, rr)); // A

        PersistenceLease attempt = table.Acquire(ClientX, rr);
        Assert.Equal("A", attempt.Server?.Name);
        table.Release(attempt); // connect to A failed
        PersistenceLease retry = table.Acquire(ClientX, rr, [attempt.Server!]);
        Assert.NotEqual("A", retry.Server?.Name);
        Assert.True(table.TryGetServer(ClientX, out string? server));
        Assert.Equal(retry.Server?.Name, server);
    }

    [Fact]
    public void An_overloaded_sticky_server_spills_one_connection_but_keeps_the_client()
    {
        ImmutableArray<RealServerSnapshot> servers = [TestServers.Server(0, 1, maxConnections: 1), TestServers.Server(1, 1)];
        IScheduler rr = new RoundRobinScheduler(servers);
        PersistenceTable table = NewTable();
        PersistenceLease first = table.Acquire(ClientX, rr);
        Assert.Equal("A", first.Server?.Name);
        first.Server!.Counters.ConnectionOpened(); // the data path counts the open connection

        PersistenceLease spilled = table.Acquire(ClientX, rr);
        Assert.Equal("B", spilled.Server?.Name);
        Assert.True(table.TryGetServer(ClientX, out string? server));
        Assert.Equal("A", server);
    }

    [Fact]
    public void No_usable_server_gives_an_empty_lease_and_no_entry()
    {
        PersistenceTable table = NewTable();
        PersistenceLease lease = table.Acquire(ClientX, new RoundRobinScheduler(TestServers.WithWeights(0, 0)));
        Assert.False(lease.HasServer);
        Assert.Equal(0, table.Count);
        table.Release(lease); // harmless
    }

    [Fact]
    public void IPv6_clients_persist_by_their_prefix()
    {
        PersistenceTable table = NewTable(new PersistenceGranularity(32, 64));
        IScheduler rr = new RoundRobinScheduler(_servers);
        string? a = table.Acquire(IPAddress.Parse("2001:db8:0:1::10"), rr).Server?.Name;
        Assert.Equal(a, table.Acquire(IPAddress.Parse("2001:db8:0:1::99"), rr).Server?.Name);
        Assert.NotEqual(a, table.Acquire(IPAddress.Parse("2001:db8:0:2::10"), rr).Server?.Name);
    }

    [Fact]
    public void IPv4_and_mapped_clients_share_an_entry()
    {
        PersistenceTable table = NewTable();
        IScheduler rr = new RoundRobinScheduler(_servers);
        string? a = table.Acquire(ClientX, rr).Server?.Name;
        Assert.Equal(a, table.Acquire(ClientX.MapToIPv6(), rr).Server?.Name);
        Assert.Equal(1, table.Count);
    }

    [Fact]
    public void Concurrent_first_connections_of_one_client_agree_on_a_server()
    {
        PersistenceTable table = NewTable();
        IScheduler rr = new RoundRobinScheduler(_servers);
        var chosen = new System.Collections.Concurrent.ConcurrentBag<string>();
        Parallel.For(0, 1000, _ => chosen.Add(table.Acquire(ClientX, rr).Server!.Name));
        Assert.Single(chosen.Distinct());
    }

    [Fact]
    public void Rejects_a_zero_timeout() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new PersistenceTable(TimeSpan.Zero, PersistenceGranularity.PerClient, _clock));

    private PersistenceTable NewTable(PersistenceGranularity? granularity = null) =>
        new(Timeout, granularity ?? PersistenceGranularity.PerClient, _clock);
}
