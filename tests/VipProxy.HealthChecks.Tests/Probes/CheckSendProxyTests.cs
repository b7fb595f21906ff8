using System.Net;
using System.Net.Sockets;
using System.Text;
using VipProxy.Config.Model;
using VipProxy.Core.ProxyProtocol;
using VipProxy.HealthChecks.Monitoring;
using VipProxy.HealthChecks.Probes;
using VipProxy.HealthChecks.Probes.Http;
using VipProxy.HealthChecks.Tests.Support;
using VipProxy.TestServers;

namespace VipProxy.HealthChecks.Tests.Probes;

/// <summary><c>check_send_proxy</c>: checks start with the PROXY header only when asked, naming the check's own
/// connection (as HAProxy's check-send-proxy does).</summary>
public sealed class CheckSendProxyTests
{
    private static async Task<byte[]> ReadToEndAsync(Socket socket)
    {
        using var stream = new MemoryStream();
        var buffer = new byte[512];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        int read;
        while ((read = await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token)) > 0)
        {
            stream.Write(buffer, 0, read);
        }

        return stream.ToArray();
    }

    private static RealServer Real(ProxyProtocolVersion sendProxy, bool checkSendProxy) =>
        new(IPEndPoint.Parse("198.18.0.21:3306"), 1, false, null, null, null,
            ValueList.From<HealthCheck>([new TcpCheck(Settings.Check())]), sendProxy, checkSendProxy);

    [Theory]
    [InlineData(ProxyProtocolVersion.None, false, ProxyProtocolVersion.None)]
    [InlineData(ProxyProtocolVersion.V1, false, ProxyProtocolVersion.None)]
    [InlineData(ProxyProtocolVersion.V2, false, ProxyProtocolVersion.None)]
    [InlineData(ProxyProtocolVersion.V1, true, ProxyProtocolVersion.V1)]
    [InlineData(ProxyProtocolVersion.V2, true, ProxyProtocolVersion.V2)]
    public void Checks_carry_the_header_only_with_check_send_proxy(ProxyProtocolVersion sendProxy, bool checkSendProxy, ProxyProtocolVersion expected)
    {
        Assert.Equal(expected, RealServerMonitor.CheckProxyHeaderOf(Real(sendProxy, checkSendProxy)));
    }

    [Fact]
    public async Task A_tcp_check_without_the_option_sends_no_byte()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var probe = new HealthProbeFactory(new VipProxy.HealthChecks.Scripts.ScriptRunner(new VipProxy.HealthChecks.Scripts.ScriptSettings(new ScriptAccount("root", null), false))).Create(
            new TcpCheck(Settings.Check()), (IPEndPoint)listener.LocalEndpoint, ProxyProtocolVersion.None);

        ProbeResult result = await probe.ProbeAsync(CancellationToken.None);
        using Socket accepted = await listener.AcceptSocketAsync();

        Assert.True(result.IsUp, result.ToString());
        Assert.Empty(await ReadToEndAsync(accepted));
    }

    [Fact]
    public async Task A_tcp_check_with_v2_sends_exactly_the_header_of_its_own_connection()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var server = (IPEndPoint)listener.LocalEndpoint;
        var probe = new TcpProbe(Settings.Target(server, bindTo: IPAddress.Parse("127.0.0.3")) with { SendProxy = ProxyProtocolVersion.V2 });

        ProbeResult result = await probe.ProbeAsync(CancellationToken.None);
        using Socket accepted = await listener.AcceptSocketAsync();
        byte[] received = await ReadToEndAsync(accepted);

        Assert.True(result.IsUp, result.ToString());
        var checker = (IPEndPoint)accepted.RemoteEndPoint!;
        var expected = new byte[ProxyProtocolHeader.MaxLength];
        int length = ProxyProtocolHeader.Write(expected, ProxyProtocolVersion.V2, checker, server);
        Assert.Equal(expected[..length], received);
        Assert.Equal(IPAddress.Parse("127.0.0.3"), checker.Address);
    }

    [Fact]
    public async Task An_http_check_with_v1_puts_the_proxy_line_before_the_request()
    {
        await using var server = new TinyHttpServer(_ => TinyHttpResponse.Text(200, "ok"));
        var probe = new HttpGetProbe(
            Settings.Target(server.EndPoint) with { SendProxy = ProxyProtocolVersion.V1 },
            [new HttpUrl("/ok", new([new StatusCodeRange(200, 299)]), null)],
            virtualHost: null);

        ProbeResult result = await probe.ProbeAsync(CancellationToken.None);

        Assert.True(result.IsUp, result.ToString());
        Assert.True(server.Requests.TryDequeue(out string? head));
        string[] lines = head.Split("\r\n");
        string[] proxy = lines[0].Split(' ');
        Assert.Equal(["PROXY", "TCP4", "127.0.0.1", "127.0.0.1"], proxy[..4]);
        Assert.Equal(server.EndPoint.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), proxy[5]);
        Assert.Equal("GET /ok HTTP/1.0", lines[1]);
        Assert.Equal(1, Encoding.ASCII.GetBytes(head).AsSpan().Count("PROXY "u8));
    }
}
