using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging.Abstractions;
using VipProxy.Config;
using VipProxy.Config.Model;
using VipProxy.Forwarding.Runtime;

namespace VipProxy.Host.Tests;

/// <summary>maxconn_per_source from keepalived.conf text to a running forwarding plane, and through a reload.</summary>
public class SourceLimitReloadTests
{
    [Fact]
    public async Task Keywords_from_the_file_are_enforced_and_a_reload_changes_them_without_cutting_connections()
    {
        using var real = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        real.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        real.Listen(16);
        int realPort = ((IPEndPoint)real.LocalEndPoint!).Port;
        int port = FreePort();
        IReadOnlyList<VirtualServer> Load(string limits)
        {
            ConfigLoadResult result = ConfigLoader.LoadText("/test/keepalived.conf", $$"""
                virtual_server 127.0.0.1 {{port}} {
                    lb_algo rr
                    {{limits}}
                    real_server 127.0.0.1 {{realPort}} {
                        weight 1
                    }
                }
                """);
            Assert.False(result.HasErrors, string.Join("\n", result.Errors));
            return result.Config!.VirtualServers;
        }

        await using var plane = new ForwardingPlane(NullLoggerFactory.Instance, TimeProvider.System, NullRealServerFailureSink.Instance);
        await plane.StartAsync(Load("maxconn_per_source 1\n conn_rate_per_source 100 60"), CancellationToken.None);
        VirtualServerRuntime runtime = Assert.Single(plane.Runtimes);
        var endpoint = new IPEndPoint(IPAddress.Loopback, port);

        using Socket held = await ConnectFromAsync(endpoint, "127.0.0.2");
        using Socket server = await real.AcceptAsync().WaitAsync(TimeSpan.FromSeconds(20));
        Assert.True(await IsRefusedAsync(endpoint, "127.0.0.2"));
        await Eventually.TrueAsync(() => runtime.GetStatus().SourceLimitRefused == 1, TimeSpan.FromSeconds(20));

        // Reload: room for two per source. The held connection is untouched and still counts.
        await plane.ApplyAsync(Load("maxconn_per_source 2"), TimeSpan.FromSeconds(5), CancellationToken.None);
        Assert.Same(runtime, Assert.Single(plane.Runtimes));
        using Socket second = await ConnectFromAsync(endpoint, "127.0.0.2");
        using Socket secondServer = await real.AcceptAsync().WaitAsync(TimeSpan.FromSeconds(20));
        Assert.True(await IsRefusedAsync(endpoint, "127.0.0.2"));
        await Eventually.TrueAsync(() => runtime.GetStatus().SourceLimitRefused == 2, TimeSpan.FromSeconds(20));

        await server.SendAsync("alive"u8.ToArray());
        var buffer = new byte[5];
        int read = await held.ReceiveAsync(buffer.AsMemory()).AsTask().WaitAsync(TimeSpan.FromSeconds(20));
        Assert.Equal("alive"u8.ToArray(), buffer[..read]);
        Assert.Equal(2, runtime.GetStatus().OpenConnections);
    }

    private static int FreePort()
    {
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)probe.LocalEndPoint!).Port;
    }

    private static async Task<Socket> ConnectFromAsync(IPEndPoint endpoint, string source)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Parse(source), 0));
        await socket.ConnectAsync(endpoint).WaitAsync(TimeSpan.FromSeconds(20));
        return socket;
    }

    /// <summary>The proxy closes the connection without forwarding it (EOF or reset).</summary>
    private static async Task<bool> IsRefusedAsync(IPEndPoint endpoint, string source)
    {
        try
        {
            using Socket socket = await ConnectFromAsync(endpoint, source);
            return await socket.ReceiveAsync(new byte[1].AsMemory()).AsTask().WaitAsync(TimeSpan.FromSeconds(20)) == 0;
        }
        catch (SocketException)
        {
            return true;
        }
    }
}
