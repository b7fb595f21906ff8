using System.Net;
using VipProxy.Forwarding.Scheduling;

namespace VipProxy.Forwarding.Tests.Scheduling;

public class ConnectionLimitTests
{
    [Fact]
    public void Reservations_never_exceed_the_limit_under_concurrency()
    {
        RealServerSnapshot server = TestServers.Server(0, 1, maxConnections: 100);
        int granted = 0;
        Parallel.For(0, 10_000, _ =>
        {
            if (server.TryReserveConnection())
            {
                Interlocked.Increment(ref granted);
            }
        });

        Assert.Equal(100, granted);
        Assert.Equal(100, server.Counters.Open);
        Assert.True(server.IsOverloaded);
        server.Counters.ConnectionClosed(wasInactive: false);
        Assert.True(server.TryReserveConnection());
    }

    [Fact]
    public void Pick_then_reserve_then_repick_excluding_keeps_every_server_within_its_limit()
    {
        var servers = System.Collections.Immutable.ImmutableArray.Create(
            TestServers.Server(0, 1, maxConnections: 30), TestServers.Server(1, 1, maxConnections: 30));
        IScheduler scheduler = new LeastConnectionScheduler(servers);
        int placed = 0, refused = 0;
        Parallel.For(0, 200, _ =>
        {
            var tried = new List<RealServerSnapshot>();
            while (scheduler.Pick(IPAddress.Loopback, [.. tried]) is { } server)
            {
                if (server.TryReserveConnection())
                {
                    Interlocked.Increment(ref placed);
                    return;
                }

                tried.Add(server);
            }

            Interlocked.Increment(ref refused);
        });

        Assert.Equal((60, 140), (placed, refused));
        Assert.All(servers, s => Assert.Equal(30, s.Counters.Open));
    }

    [Fact]
    public void No_limit_always_reserves()
    {
        RealServerSnapshot server = TestServers.Server(0, 1);
        for (int i = 0; i < 1000; i++)
        {
            Assert.True(server.TryReserveConnection());
        }

        Assert.False(server.IsOverloaded);
    }
}
