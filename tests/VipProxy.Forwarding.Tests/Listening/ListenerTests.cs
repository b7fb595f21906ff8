using System.Net;
using System.Net.Sockets;
using VipProxy.Config.Model;
using VipProxy.Forwarding.Loop;
using VipProxy.Forwarding.Tests.Support;

namespace VipProxy.Forwarding.Tests.Listening;

/// <summary>The listening sockets: one per loop in a SO_REUSEPORT group, with the options a VIP needs.</summary>
public class ListenerTests
{
    [Fact]
    public async Task Each_loop_listens_with_freebind_reuseaddr_reuseport_and_nodelay()
    {
        await using var server = LoopbackServer.IdEcho("A");
        var (runtime, _, _) = await TestRuntime.StartAsync(TestConfigs.Virtual(SchedulingAlgorithm.RoundRobin, [TestConfigs.Real(server.Endpoint)]));
        await using (runtime)
        {
            Assert.Equal(2, runtime.Bindings.Count);
            foreach (LoopVirtualServer binding in runtime.Bindings)
            {
                int[] options = await binding.Loop.InvokeAsync(loop => new[]
                {
                    Read(loop.Kernel, binding.ListenFd, LinuxConstants.SolIp, LinuxConstants.IpFreebind),
                    Read(loop.Kernel, binding.ListenFd, LinuxConstants.SolSocket, LinuxConstants.SoReuseAddr),
                    Read(loop.Kernel, binding.ListenFd, LinuxConstants.SolSocket, LinuxConstants.SoReusePort),
                    Read(loop.Kernel, binding.ListenFd, LinuxConstants.SolTcp, LinuxConstants.TcpNoDelay),
                });
                Assert.All(options, value => Assert.NotEqual(0, value));
            }
        }
    }

    [Fact]
    public async Task A_virtual_server_listens_on_an_address_this_host_does_not_hold()
    {
        // 198.18.250.1 is on no interface here: without IP_FREEBIND, bind fails with EADDRNOTAVAIL.
        var (runtime, _, _) = await TestRuntime.StartAsync(TestConfigs.Virtual(SchedulingAlgorithm.RoundRobin,
            [TestConfigs.Real(TestConfigs.DeadEndpoint())], address: "198.18.250.1"));
        await using (runtime)
        {
            Assert.True(runtime.GetStatus().Accepting);
            Assert.NotEqual(0, runtime.LocalEndpoint!.Port);
        }
    }

    [Fact]
    public async Task A_second_listener_on_the_same_address_is_refused_even_with_reuseport()
    {
        await using var server = LoopbackServer.IdEcho("A");
        VirtualServer config = TestConfigs.Virtual(SchedulingAlgorithm.RoundRobin, [TestConfigs.Real(server.Endpoint)]);
        var (first, _, _) = await TestRuntime.StartAsync(config);
        await using (first)
        {
            await using var second = new VipProxy.Forwarding.Runtime.VirtualServerRuntime(config with { Endpoint = first.Address() }, TestRuntime.For(DataPath.TwoLoops));
            SocketException error = await Assert.ThrowsAsync<SocketException>(() => second.StartAsync());
            Assert.Equal(SocketError.AddressAlreadyInUse, error.SocketErrorCode);

            // The first one still serves.
            Assert.Equal("A", await TestClient.WhoAnswersAsync(first.Address()));
        }
    }

    [Fact]
    public async Task The_kernel_spreads_new_connections_over_the_loops()
    {
        await using var server = LoopbackServer.IdEcho("A");
        var (runtime, _, _) = await TestRuntime.StartAsync(TestConfigs.Virtual(SchedulingAlgorithm.RoundRobin, [TestConfigs.Real(server.Endpoint)]));
        await using (runtime)
        {
            var clients = new List<Socket>();
            try
            {
                for (int i = 0; i < 40; i++)
                {
                    clients.Add(await TestClient.ConnectAsync(runtime.Address()));
                    Assert.Equal("A", await TestClient.ReadLineAsync(clients[^1]));
                }

                int[] perLoop = await Task.WhenAll(runtime.Bindings.Select(binding => binding.Loop.InvokeAsync(_ => binding.LiveConnections)));
                Assert.Equal(40, perLoop.Sum());
                Assert.All(perLoop, count => Assert.InRange(count, 1, 39)); // 40 hashed 4-tuples: all on one loop is 2^-39
            }
            finally
            {
                clients.ForEach(client => client.Dispose());
            }
        }
    }

    [Fact]
    public async Task Stopping_closes_the_port_but_not_established_connections()
    {
        await using var server = LoopbackServer.IdEcho("A");
        var (runtime, _, _) = await TestRuntime.StartAsync(TestConfigs.Virtual(SchedulingAlgorithm.RoundRobin, [TestConfigs.Real(server.Endpoint)]));
        await using (runtime)
        {
            IPEndPoint address = runtime.Address();
            using Socket client = await TestClient.ConnectAsync(address);
            Assert.Equal("A", await TestClient.ReadLineAsync(client));
            await runtime.StopAcceptingAsync();
            Assert.All(runtime.Bindings, binding => Assert.Equal(-1, binding.ListenFd));
            await Assert.ThrowsAsync<SocketException>(() => TestClient.ConnectAsync(address));
            Assert.Equal("still here", await TestClient.EchoAsync(client, "still here"));
        }
    }

    private static int Read(ILoopKernel kernel, int fd, int level, int name)
    {
        Assert.True(kernel.GetOption(fd, level, name, out int value) >= 0);
        return value;
    }
}
