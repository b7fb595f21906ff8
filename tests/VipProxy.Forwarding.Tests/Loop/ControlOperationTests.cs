using System.Net.Sockets;
using VipProxy.Config.Model;
using VipProxy.Forwarding.Relay;
using VipProxy.Forwarding.Runtime;
using VipProxy.Forwarding.Tests.Support;

namespace VipProxy.Forwarding.Tests.Loop;

/// <summary>The control plane's operations on live connections, through the loops' mailboxes.</summary>
public class ControlOperationTests
{
    [Fact]
    public async Task The_connection_list_shows_each_connection_with_its_real_server_and_filters_by_real_server()
    {
        await using var a = LoopbackServer.IdEcho("A");
        await using var b = LoopbackServer.IdEcho("B");
        var (runtime, _, _) = await TestRuntime.StartAsync(TestConfigs.Virtual(SchedulingAlgorithm.RoundRobin,
            [TestConfigs.Real(a.Endpoint), TestConfigs.Real(b.Endpoint)]));
        await using (runtime)
        {
            var clients = new List<Socket>();
            for (int i = 0; i < 6; i++)
            {
                clients.Add(await TestClient.ConnectAsync(runtime.Address()));
                await TestClient.ReadLineAsync(clients[^1]);
                Assert.Equal($"m{i}", await TestClient.EchoAsync(clients[^1], $"m{i}"));
            }

            IReadOnlyList<ConnectionStatus> all = await runtime.GetConnectionsAsync();
            Assert.Equal(6, all.Count);
            Assert.Equal(all.OrderBy(row => row.Id).Select(row => row.Id), all.Select(row => row.Id));
            Assert.All(all, row =>
            {
                Assert.Equal(runtime.Address(), row.VirtualServer);
                Assert.NotNull(row.Client);
                Assert.Equal(3, row.BytesFromClient);
                Assert.Equal(3, row.BytesToServer);
                Assert.Equal(5, row.BytesFromServer); // "A\n" + "mN\n"
            });
            Assert.Equal(3, (await runtime.GetConnectionsAsync(a.Endpoint)).Count);
            Assert.Equal(3, (await runtime.GetConnectionsAsync(b.Endpoint)).Count);
            clients.ForEach(client => client.Dispose());
        }
    }

    [Fact]
    public async Task Shutdown_sessions_closes_every_connection_of_one_real_server_and_counts_them()
    {
        await using var a = LoopbackServer.IdEcho("A");
        await using var b = LoopbackServer.IdEcho("B");
        var (runtime, log, _) = await TestRuntime.StartAsync(TestConfigs.Virtual(SchedulingAlgorithm.RoundRobin,
            [TestConfigs.Real(a.Endpoint), TestConfigs.Real(b.Endpoint)]));
        await using (runtime)
        {
            var onA = new List<Socket>();
            var onB = new List<Socket>();
            for (int i = 0; i < 8; i++)
            {
                Socket client = await TestClient.ConnectAsync(runtime.Address());
                (await TestClient.ReadLineAsync(client) == "A" ? onA : onB).Add(client);
            }

            Assert.Equal(onA.Count, await runtime.CloseConnectionsToAsync(a.Endpoint));
            foreach (Socket client in onA)
            {
                await Assert.ThrowsAnyAsync<Exception>(async () =>
                {
                    if (await TestClient.ReadLineAsync(client) is null)
                    {
                        throw new SocketException((int)SocketError.ConnectionReset);
                    }
                });
            }

            foreach (Socket client in onB)
            {
                Assert.Equal("B lives", await TestClient.EchoAsync(client, "B lives"));
            }

            await Eventually.TrueAsync(() => log.Finished.Count == onA.Count, TestClient.Deadline);
            Assert.All(log.Finished, f => Assert.Equal((CloseReason.SessionsShutdown, ConnectionSide.Proxy), (f.Reason, f.Side)));
            Assert.Equal(onA.Count, runtime.GetStatus().CountOf(CloseReason.SessionsShutdown));
            Assert.Equal(0, runtime.GetStatus().Find(a.Endpoint)!.ActiveConnections);
            Assert.Equal(0, await runtime.CloseConnectionsToAsync(a.Endpoint));
            onA.Concat(onB).ToList().ForEach(client => client.Dispose());
        }
    }

    [Fact]
    public async Task Kill_by_id_closes_only_that_connection_as_an_operator_close()
    {
        await using var server = LoopbackServer.IdEcho("A");
        var (runtime, log, _) = await TestRuntime.StartAsync(TestConfigs.Virtual(SchedulingAlgorithm.RoundRobin,
            [TestConfigs.Real(server.Endpoint)]));
        await using (runtime)
        {
            using Socket first = await TestClient.ConnectAsync(runtime.Address());
            using Socket second = await TestClient.ConnectAsync(runtime.Address());
            Assert.Equal("A", await TestClient.ReadLineAsync(first));
            Assert.Equal("A", await TestClient.ReadLineAsync(second));
            long[] ids = await runtime.OpenConnectionIdsAsync();
            Assert.Equal(2, ids.Length);
            Assert.True(await runtime.CloseConnectionAsync(ids[0]));
            Assert.False(await runtime.CloseConnectionAsync(ids[0]));
            Assert.False(await runtime.CloseConnectionAsync(-1));
            await Eventually.TrueAsync(() => log.Finished.Count == 1, TestClient.Deadline);
            Assert.Equal(CloseReason.OperatorClosed, Assert.Single(log.Finished).Reason);
            Assert.Equal(1, await runtime.CountOpenAsync(ids));
            Assert.Equal(ids[1], Assert.Single(await runtime.GetConnectionsAsync()).Id);
        }
    }
}
