using System.Net.Sockets;
using VipProxy.Config.Model;
using VipProxy.Forwarding.Relay;
using VipProxy.Forwarding.Tests.Support;

namespace VipProxy.Forwarding.Tests.Runtime;

/// <summary>maxconn per virtual server and per real server: over the limit a new client is closed at once.</summary>
public class LimitsTests
{
    [Fact]
    public async Task Virtual_server_maxconn_refuses_and_counts_the_extra_client()
    {
        await using var a = LoopbackServer.IdEcho("A");
        var (runtime, log, _) = await TestRuntime.StartAsync(TestConfigs.Virtual(SchedulingAlgorithm.RoundRobin,
            [TestConfigs.Real(a.Endpoint)], maxConnections: 2));
        await using (runtime)
        {
            using Socket first = await TestClient.ConnectAsync(runtime.Address());
            using Socket second = await TestClient.ConnectAsync(runtime.Address());
            Assert.Equal("A", await TestClient.ReadLineAsync(first));
            Assert.Equal("A", await TestClient.ReadLineAsync(second));

            Assert.Null(await RedispatchTests.WhoAnswersOrNullAsync(runtime));
            await Eventually.TrueAsync(() => runtime.GetStatus().CountOf(CloseReason.VirtualServerFull) == 1, TestClient.Deadline);
            Assert.Equal(2, runtime.GetStatus().OpenConnections);

            // Room again once a connection ends.
            first.Shutdown(SocketShutdown.Send);
            Assert.Null(await TestClient.ReadLineAsync(first));
            await Eventually.TrueAsync(() => runtime.GetStatus().OpenConnections == 1, TestClient.Deadline);
            Assert.Equal("A", await TestClient.WhoAnswersAsync(runtime.Address()));
            Assert.Equal("still up", await TestClient.EchoAsync(second, "still up"));
        }
    }

    [Fact]
    public async Task Real_server_maxconn_spills_to_other_servers_then_refuses_and_counts()
    {
        await using var a = LoopbackServer.IdEcho("A");
        await using var b = LoopbackServer.IdEcho("B");
        var (runtime, log, _) = await TestRuntime.StartAsync(TestConfigs.Virtual(SchedulingAlgorithm.RoundRobin,
            [TestConfigs.Real(a.Endpoint, maxConnections: 1), TestConfigs.Real(b.Endpoint, maxConnections: 2)]));
        await using (runtime)
        {
            var held = new List<Socket>();
            try
            {
                var names = new List<string?>();
                for (int i = 0; i < 3; i++)
                {
                    Socket client = await TestClient.ConnectAsync(runtime.Address());
                    held.Add(client);
                    names.Add(await TestClient.ReadLineAsync(client));
                }

                Assert.Equal(1, names.Count(n => n == "A"));
                Assert.Equal(2, names.Count(n => n == "B"));

                Assert.Null(await RedispatchTests.WhoAnswersOrNullAsync(runtime));
                await Eventually.TrueAsync(() => runtime.GetStatus().CountOf(CloseReason.RealServerFull) == 1, TestClient.Deadline);
                var status = runtime.GetStatus();
                Assert.Equal(1, status.Find(a.Endpoint)!.ActiveConnections);
                Assert.Equal(2, status.Find(b.Endpoint)!.ActiveConnections);
                Assert.Equal(3, a.AcceptCount + b.AcceptCount);
            }
            finally
            {
                held.ForEach(socket => socket.Dispose());
            }
        }
    }
}
