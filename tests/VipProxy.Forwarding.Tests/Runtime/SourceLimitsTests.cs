using System.Net;
using System.Net.Sockets;
using VipProxy.Config.Model;
using VipProxy.Forwarding.Relay;
using VipProxy.Forwarding.Runtime;
using VipProxy.Forwarding.Tests.Support;

namespace VipProxy.Forwarding.Tests.Runtime;

/// <summary>maxconn_per_source and conn_rate_per_source through a running virtual server on loopback: one source
/// (127.0.0.2) goes over its limit and is refused at once while another (127.0.0.3) keeps being served.</summary>
public class SourceLimitsTests
{
    private const string Noisy = "127.0.0.2";
    private const string Quiet = "127.0.0.3";

    [Fact]
    public async Task Maxconn_per_source_refuses_the_extra_connection_of_one_source_only()
    {
        await using var a = LoopbackServer.IdEcho("A");
        var (runtime, log, _) = await TestRuntime.StartAsync(TestConfigs.Virtual(SchedulingAlgorithm.RoundRobin,
            [TestConfigs.Real(a.Endpoint)], maxConnectionsPerSource: 2));
        await using (runtime)
        {
            var held = new List<Socket>();
            try
            {
                for (int i = 0; i < 2; i++)
                {
                    held.Add(await TestClient.ConnectAsync(runtime.Address(), Noisy));
                    Assert.Equal("A", await TestClient.ReadLineAsync(held[^1]));
                }

                Assert.Null(await AnswerOrNullAsync(runtime.Address(), Noisy));
                await Eventually.TrueAsync(() => runtime.GetStatus().SourceLimitRefused == 1, TestClient.Deadline);
                Assert.Contains(log.Finished, finished => finished.Reason == CloseReason.SourceLimit && finished.Side == ConnectionSide.Proxy);

                // The other source is served up to its own limit.
                for (int i = 0; i < 2; i++)
                {
                    held.Add(await TestClient.ConnectAsync(runtime.Address(), Quiet));
                    Assert.Equal("A", await TestClient.ReadLineAsync(held[^1]));
                }

                VirtualServerTrafficStatus status = runtime.GetStatus();
                Assert.Equal(1, status.SourceLimitRefused);
                Assert.Equal(0, status.SourceRateRefused);
                Assert.Equal(4, status.OpenConnections);
                Assert.Equal(2, status.TrackedSources);
                Assert.Equal(5, status.AcceptedConnections);

                // The refused client did not disturb the noisy source's own open connections, and room comes back
                // when one of them ends.
                Assert.Equal("still", await TestClient.EchoAsync(held[0], "still"));
                held[0].Shutdown(SocketShutdown.Send);
                Assert.Null(await TestClient.ReadLineAsync(held[0]));
                await Eventually.TrueAsync(() => runtime.GetStatus().OpenConnections == 3, TestClient.Deadline);
                Assert.Equal("A", await AnswerOrNullAsync(runtime.Address(), Noisy));
            }
            finally
            {
                held.ForEach(socket => socket.Dispose());
            }

            await Eventually.TrueAsync(() => runtime.GetStatus().TrackedSources == 0, TestClient.Deadline, "entries go with their last connection");
        }
    }

    [Fact]
    public async Task Conn_rate_per_source_refuses_a_fast_source_while_another_is_served()
    {
        await using var a = LoopbackServer.IdEcho("A");
        var (runtime, log, _) = await TestRuntime.StartAsync(TestConfigs.Virtual(SchedulingAlgorithm.RoundRobin,
            [TestConfigs.Real(a.Endpoint)], connectionRatePerSource: new ConnectionRateLimit(3, TimeSpan.FromMinutes(10))));
        await using (runtime)
        {
            for (int i = 0; i < 3; i++)
            {
                Assert.Equal("A", await AnswerOrNullAsync(runtime.Address(), Noisy));
            }

            // Over the rate: refused at once, each time (refused attempts count too), without holding a connection.
            for (int i = 0; i < 3; i++)
            {
                Assert.Null(await AnswerOrNullAsync(runtime.Address(), Noisy));
            }

            for (int i = 0; i < 3; i++)
            {
                Assert.Equal("A", await AnswerOrNullAsync(runtime.Address(), Quiet));
            }

            await Eventually.TrueAsync(() => runtime.GetStatus().SourceRateRefused == 3, TestClient.Deadline);
            await Eventually.TrueAsync(() => runtime.GetStatus().OpenConnections == 0, TestClient.Deadline);
            VirtualServerTrafficStatus status = runtime.GetStatus();
            Assert.Equal(0, status.SourceLimitRefused);
            Assert.Equal(0, status.CountOf(CloseReason.VirtualServerFull));
            Assert.Equal(6, status.Find(a.Endpoint)!.TotalConnections);
            Assert.Equal(3, log.Finished.Count(finished => finished.Reason == CloseReason.SourceRateLimit));

            // The quiet source has one more before its own limit.
            Assert.Null(await AnswerOrNullAsync(runtime.Address(), Quiet));
            await Eventually.TrueAsync(() => runtime.GetStatus().SourceRateRefused == 4, TestClient.Deadline);
        }
    }

    [Fact]
    public async Task A_reload_changes_the_per_source_limits_without_cutting_connections()
    {
        await using var a = LoopbackServer.IdEcho("A");
        VirtualServer config = TestConfigs.Virtual(SchedulingAlgorithm.RoundRobin, [TestConfigs.Real(a.Endpoint)], maxConnectionsPerSource: 1);
        var (runtime, _, _) = await TestRuntime.StartAsync(config);
        await using (runtime)
        {
            config = config with { Endpoint = runtime.Config.Endpoint };
            var held = new List<Socket>();
            try
            {
                held.Add(await TestClient.ConnectAsync(runtime.Address(), Noisy));
                Assert.Equal("A", await TestClient.ReadLineAsync(held[^1]));
                Assert.Null(await AnswerOrNullAsync(runtime.Address(), Noisy));

                // Raised: the open connection still counts, one more fits.
                runtime.ApplyConfig(config with { MaxConnectionsPerSource = 2 });
                held.Add(await TestClient.ConnectAsync(runtime.Address(), Noisy));
                Assert.Equal("A", await TestClient.ReadLineAsync(held[^1]));
                Assert.Null(await AnswerOrNullAsync(runtime.Address(), Noisy));

                // Lowered below what is open, plus a rate limit: nothing open is cut, new ones are refused.
                runtime.ApplyConfig(config with
                {
                    MaxConnectionsPerSource = 1,
                    ConnectionRatePerSource = new ConnectionRateLimit(100, TimeSpan.FromSeconds(60)),
                });
                Assert.Null(await AnswerOrNullAsync(runtime.Address(), Noisy));
                foreach (Socket socket in held)
                {
                    Assert.Equal("alive", await TestClient.EchoAsync(socket, "alive"));
                }

                // Removed: no per-source limit any more.
                runtime.ApplyConfig(config with { MaxConnectionsPerSource = null, ConnectionRatePerSource = null });
                Assert.Equal("A", await AnswerOrNullAsync(runtime.Address(), Noisy));

                await Eventually.TrueAsync(() => runtime.GetStatus().SourceLimitRefused == 3, TestClient.Deadline);
                await Eventually.TrueAsync(() => runtime.GetStatus().Find(a.Endpoint)!.ActiveConnections == 2, TestClient.Deadline);
            }
            finally
            {
                held.ForEach(socket => socket.Dispose());
            }
        }
    }

    /// <summary>The real server's greeting, or null when the proxy closed the connection first (refused).</summary>
    private static async Task<string?> AnswerOrNullAsync(IPEndPoint endpoint, string from)
    {
        try
        {
            return await TestClient.WhoAnswersAsync(endpoint, from);
        }
        catch (SocketException)
        {
            return null;
        }
    }
}
