using System.Net;
using System.Net.Sockets;
using VipProxy.HealthChecks.Probes;
using VipProxy.HealthChecks.Tests.Support;

namespace VipProxy.HealthChecks.Tests.Probes;

public sealed class TcpProbeTests
{
    [Fact]
    public async Task Listening_server_is_up_and_the_connection_is_closed_cleanly()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var probe = new TcpProbe(Settings.Target((IPEndPoint)listener.LocalEndpoint));

        ProbeResult result = await probe.ProbeAsync(CancellationToken.None);

        Assert.True(result.IsUp, result.ToString());
        using Socket accepted = await listener.AcceptSocketAsync();
        var buffer = new byte[1];
        Assert.Equal(0, await accepted.ReceiveAsync(buffer, SocketFlags.None)); // FIN, not a reset
    }

    [Fact]
    public async Task Closed_port_is_down_with_connection_refused()
    {
        int port = VipProxy.Lab.FreeTcpPort.On(IPAddress.Loopback);
        var probe = new TcpProbe(Settings.Target(new IPEndPoint(IPAddress.Loopback, port)));

        ProbeResult result = await probe.ProbeAsync(CancellationToken.None);

        Assert.False(result.IsUp);
        Assert.Contains("connection refused", result.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Bindto_sets_the_source_address()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var source = IPAddress.Parse("127.0.0.2");
        var probe = new TcpProbe(Settings.Target((IPEndPoint)listener.LocalEndpoint, bindTo: source));

        ProbeResult result = await probe.ProbeAsync(CancellationToken.None);
        using Socket accepted = await listener.AcceptSocketAsync();

        Assert.True(result.IsUp, result.ToString());
        Assert.Equal(source, ((IPEndPoint)accepted.RemoteEndPoint!).Address);
    }

    [Fact]
    public void Connect_ip_and_port_override_the_real_server()
    {
        var realServer = new IPEndPoint(IPAddress.Parse("10.0.0.5"), 3306);

        ProbeTarget own = ProbeTarget.For(Settings.Check(), realServer);
        ProbeTarget other = ProbeTarget.For(Settings.Check(connectIp: IPAddress.Parse("10.0.0.9"), connectPort: 9104), realServer);

        Assert.Equal(realServer, own.Endpoint);
        Assert.Equal(new IPEndPoint(IPAddress.Parse("10.0.0.9"), 9104), other.Endpoint);
    }

    [Fact]
    public async Task Cancellation_by_the_caller_throws_instead_of_reporting_down()
    {
        await using var silent = new VipProxy.TestServers.SilentTcpServer();
        var probe = new VipProxy.HealthChecks.Probes.MySql.MySqlProbe(
            Settings.Target(silent.EndPoint, timeoutSeconds: 30),
            new VipProxy.Config.Model.MySqlCheck(Settings.Check(), "u", "p", null));
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => probe.ProbeAsync(cancel.Token));
    }
}
