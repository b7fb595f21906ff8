using System.Net.Sockets;
using VipProxy.Config.Model;
using VipProxy.Forwarding.Relay;
using VipProxy.Forwarding.Tests.Support;

namespace VipProxy.Forwarding.Tests.Runtime;

/// <summary>A failed connect to a real server is invisible to the client: it is redispatched.</summary>
public class RedispatchTests
{
    [Fact]
    public async Task A_dead_port_is_redispatched_and_reported_to_the_sink()
    {
        await using var live = LoopbackServer.IdEcho("live");
        var dead = TestConfigs.DeadEndpoint();
        var (runtime, log, sink) = await TestRuntime.StartAsync(TestConfigs.Virtual(SchedulingAlgorithm.RoundRobin,
            [TestConfigs.Real(dead), TestConfigs.Real(live.Endpoint)]));
        await using (runtime)
        {
            for (int i = 0; i < 6; i++)
            {
                Assert.Equal("live", await TestClient.WhoAnswersAsync(runtime.Address()));
            }

            Assert.NotEmpty(sink.Failures);
            Assert.All(sink.Failures, failure =>
            {
                Assert.Equal(dead, failure.RealServer);
                Assert.Equal(SocketError.ConnectionRefused, failure.Error);
            });
            var status = runtime.GetStatus();
            Assert.Equal(sink.Failures.Count, status.Find(dead)!.FailedConnects);
            Assert.Equal(0, status.Find(dead)!.ActiveConnections);
            Assert.Equal(0, status.CountOf(CloseReason.ConnectFailed));
            await Eventually.TrueAsync(() => log.Finished.Count == 6, TestClient.Deadline);
            Assert.All(log.Finished, f => Assert.Equal(live.Endpoint.ToString(), f.RealServer));
        }
    }

    [Fact]
    public async Task When_every_real_server_refuses_the_client_is_closed_with_connect_failed()
    {
        var (runtime, log, sink) = await TestRuntime.StartAsync(TestConfigs.Virtual(SchedulingAlgorithm.RoundRobin,
            [TestConfigs.Real(TestConfigs.DeadEndpoint()), TestConfigs.Real(TestConfigs.DeadEndpoint())]));
        await using (runtime)
        {
            Assert.Null(await WhoAnswersOrNullAsync(runtime));
            await Eventually.TrueAsync(() => !log.Finished.IsEmpty, TestClient.Deadline);
            Assert.Equal(CloseReason.ConnectFailed, Assert.Single(log.Finished).Reason);
            Assert.Equal(2, sink.Failures.Count); // each server tried once
        }
    }

    [Fact]
    public async Task The_sorry_server_answers_when_no_real_server_is_up()
    {
        await using var real = LoopbackServer.IdEcho("real");
        await using var sorry = LoopbackServer.IdEcho("sorry");
        var (runtime, log, _) = await TestRuntime.StartAsync(TestConfigs.Virtual(SchedulingAlgorithm.RoundRobin,
            [TestConfigs.Real(real.Endpoint)], sorryServer: sorry.Endpoint));
        await using (runtime)
        {
            Assert.Equal("real", await TestClient.WhoAnswersAsync(runtime.Address()));
            runtime.SetRealServerUp(real.Endpoint, false);
            Assert.True(runtime.GetStatus().SorryServerActive);
            Assert.Equal("sorry", await TestClient.WhoAnswersAsync(runtime.Address()));
            runtime.SetRealServerUp(real.Endpoint, true);
            Assert.Equal("real", await TestClient.WhoAnswersAsync(runtime.Address()));
        }
    }

    [Fact]
    public async Task No_real_server_and_no_sorry_server_closes_the_client_with_no_real_server()
    {
        await using var real = LoopbackServer.IdEcho("real");
        var (runtime, log, _) = await TestRuntime.StartAsync(TestConfigs.Virtual(SchedulingAlgorithm.RoundRobin,
            [TestConfigs.Real(real.Endpoint)]));
        await using (runtime)
        {
            runtime.SetRealServerUp(real.Endpoint, false);
            Assert.Null(await WhoAnswersOrNullAsync(runtime));
            await Eventually.TrueAsync(() => !log.Finished.IsEmpty, TestClient.Deadline);
            FinishedConnection finished = Assert.Single(log.Finished);
            Assert.Equal(CloseReason.NoRealServer, finished.Reason);
            Assert.Equal(ConnectionSide.Proxy, finished.Side);
        }
    }

    internal static async Task<string?> WhoAnswersOrNullAsync(VipProxy.Forwarding.Runtime.VirtualServerRuntime runtime)
    {
        try
        {
            return await TestClient.WhoAnswersAsync(runtime.Address());
        }
        catch (SocketException error) when (error.SocketErrorCode == SocketError.ConnectionReset)
        {
            return null;
        }
    }
}

/// <summary>Killing a real server while clients keep arriving: zero failed client connects.</summary>
[Collection(TimingCollection.Name)]
public class KillUnderLoadTests
{
    [Theory]
    [InlineData(SchedulingAlgorithm.RoundRobin)]
    [InlineData(SchedulingAlgorithm.WeightedLeastConnection)]
    public async Task Killing_a_real_server_under_new_connections_fails_no_client(SchedulingAlgorithm algorithm)
    {
        await using var a = LoopbackServer.IdEcho("A");
        await using var b = LoopbackServer.IdEcho("B");
        var (runtime, log, sink) = await TestRuntime.StartAsync(TestConfigs.Virtual(algorithm,
            [TestConfigs.Real(a.Endpoint), TestConfigs.Real(b.Endpoint)]));
        await using (runtime)
        {
            const int clients = 300;
            const int workers = 4;
            int failures = 0;
            int next = 0;
            var answers = new System.Collections.Concurrent.ConcurrentBag<string?>();
            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            Task load = Task.WhenAll(Enumerable.Range(0, workers).Select(async _ =>
            {
                while (!deadline.IsCancellationRequested)
                {
                    int ticket = Interlocked.Increment(ref next);
                    if (ticket > clients)
                    {
                        break;
                    }

                    // Kill B a third of the way in, from inside the load: polling for progress from outside could
                    // see the load finish first (300 loopback clients take well under a poll interval on a quiet
                    // machine), and then B was never killed. It stops listening; connections already in its
                    // accept queue are reset.
                    if (ticket == clients / 3)
                    {
                        b.StopListening();
                    }

                    try
                    {
                        using Socket client = await TestClient.ConnectAsync(runtime.Address());
                        string? name = await TestClient.ReadLineAsync(client);
                        if (name is null || await TestClient.EchoAsync(client, "ping") != "ping")
                        {
                            Interlocked.Increment(ref failures);
                        }
                        else
                        {
                            answers.Add(name);
                        }
                    }
                    catch (SocketException)
                    {
                        Interlocked.Increment(ref failures);
                    }
                }
            }));

            await load.WaitAsync(TimeSpan.FromSeconds(90));

            // No client was refused for want of a real server: every failed connect to B was redispatched.
            await Eventually.TrueAsync(() => log.Finished.Count == clients, TestClient.Deadline);
            CloseReason[] refusals = [CloseReason.ConnectFailed, CloseReason.ConnectTimeout, CloseReason.NoRealServer,
                CloseReason.RealServerFull, CloseReason.VirtualServerFull];
            Assert.DoesNotContain(log.Finished, f => refusals.Contains(f.Reason));

            // The only clients allowed to fail are those already connected to B when it died (the kernel resets
            // connections in a closed listener's accept queue; no proxy can hide that): at most one per worker.
            int killedInFlight = log.Finished.Count(f => f.RealServer == b.Endpoint.ToString() && f.Reason == CloseReason.RealServerReset);
            Assert.True(failures == killedInFlight && killedInFlight <= workers, $"{failures} failures, {killedInFlight} killed in flight");
            Assert.Equal(clients - failures, answers.Count);
            Assert.Contains("B", answers);
            Assert.NotEmpty(sink.Failures);
            Assert.All(sink.Failures, failure => Assert.Equal(b.Endpoint, failure.RealServer));
        }
    }
}

/// <summary>Real server endpoints written as IPv4-mapped IPv6 still connect over IPv4.</summary>
public class MappedAddressTests
{
    [Fact]
    public async Task An_ipv4_mapped_real_server_address_is_reached_over_ipv4()
    {
        await using var a = LoopbackServer.IdEcho("A");
        var mapped = new System.Net.IPEndPoint(a.Endpoint.Address.MapToIPv6(), a.Endpoint.Port);
        var (runtime, _, sink) = await TestRuntime.StartAsync(TestConfigs.Virtual(SchedulingAlgorithm.RoundRobin,
            [TestConfigs.Real(mapped)]));
        await using (runtime)
        {
            Assert.Equal("A", await TestClient.WhoAnswersAsync(runtime.Address()));
            Assert.Empty(sink.Failures);
        }
    }
}
