using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging.Abstractions;
using VipProxy.Config;
using VipProxy.Host.Status;

namespace VipProxy.Host.Tests;

/// <summary>A reload is all or nothing: when the last plane (VRRP) fails, forwarding keeps the running file.</summary>
public sealed class ReloadRollbackTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("vipproxy-reload-").FullName;

    [Fact]
    public async Task A_reload_that_fails_in_vrrp_leaves_forwarding_on_the_old_virtual_servers_and_is_reported_as_not_applied()
    {
        using var real = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        real.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        real.Listen(16);
        int realPort = ((IPEndPoint)real.LocalEndPoint!).Port;
        int oldPort = FreePort();
        int newPort = FreePort();
        string file = Path.Combine(_directory, "keepalived.conf");
        string Text(int port) => $$"""
            virtual_server 127.0.0.1 {{port}} {
                lb_algo rr
                real_server 127.0.0.1 {{realPort}} {
                    weight 1
                }
            }
            """;
        await File.WriteAllTextAsync(file, Text(oldPort));
        ConfigLoadResult loaded = ConfigLoader.LoadText(file, Text(oldPort));
        Assert.False(loaded.HasErrors, string.Join("\n", loaded.Errors));

        var options = new DaemonOptions(file, null, Path.Combine(_directory, "control.sock"), TimeSpan.FromSeconds(1));
        await using var node = new NodeService(options, loaded.Config!, NullLoggerFactory.Instance, TimeProvider.System)
        {
            ApplyVrrp = (_, _, _) => throw new InvalidOperationException("injected VRRP failure"),
        };
        await node.StartAsync(CancellationToken.None);
        try
        {
            await File.WriteAllTextAsync(file, Text(newPort));
            await node.ReloadAsync();

            StatusReport status = node.Status();
            ReloadStatus reload = Assert.IsType<ReloadStatus>(status.LastReload);
            Assert.False(reload.Applied);
            Assert.Contains(reload.Errors, e => e.Contains("injected VRRP failure", StringComparison.Ordinal));
            Assert.Equal(oldPort, Assert.Single(status.VirtualServers).Port);

            // The old virtual server still forwards; the refused one never listens.
            using (var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
            {
                await client.ConnectAsync(new IPEndPoint(IPAddress.Loopback, oldPort)).WaitAsync(TimeSpan.FromSeconds(20));
                using Socket forwarded = await real.AcceptAsync().WaitAsync(TimeSpan.FromSeconds(20));
            }

            using var refused = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            SocketException error = await Assert.ThrowsAsync<SocketException>(
                () => refused.ConnectAsync(new IPEndPoint(IPAddress.Loopback, newPort)).WaitAsync(TimeSpan.FromSeconds(20)));
            Assert.Equal(SocketError.ConnectionRefused, error.SocketErrorCode);
        }
        finally
        {
            await node.StopAsync(CancellationToken.None);
        }
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static int FreePort()
    {
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)probe.LocalEndPoint!).Port;
    }
}
