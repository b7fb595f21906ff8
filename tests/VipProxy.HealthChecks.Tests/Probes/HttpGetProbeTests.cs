using System.Security.Cryptography;
using System.Text;
using VipProxy.Config.Model;
using VipProxy.HealthChecks.Probes;
using VipProxy.HealthChecks.Probes.Http;
using VipProxy.HealthChecks.Tests.Support;
using VipProxy.TestServers;

namespace VipProxy.HealthChecks.Tests.Probes;

public sealed class HttpGetProbeTests
{
    private const string Page = "hello from the real server\n";

    private static readonly string PageDigest = Convert.ToHexStringLower(MD5.HashData(Encoding.UTF8.GetBytes(Page)));

    private static HttpUrl Url(string path, string? digest = null, params StatusCodeRange[] codes) =>
        new(path, new(codes.Length == 0 ? [new StatusCodeRange(200, 299)] : codes), digest);

    private static TinyHttpServer Server() => new(path => path switch
    {
        "/ok" => TinyHttpResponse.Text(200, Page),
        "/no-length" => TinyHttpResponse.Text(200, Page, sendContentLength: false),
        "/moved" => TinyHttpResponse.Text(302, "elsewhere"),
        _ => TinyHttpResponse.Text(503, "down for maintenance"),
    });

    [Fact]
    public async Task Status_in_range_is_up_and_the_request_carries_the_host_header()
    {
        await using TinyHttpServer server = Server();
        var probe = new HttpGetProbe(Settings.Target(server.EndPoint), [Url("/ok")], virtualHost: null);

        ProbeResult result = await probe.ProbeAsync(CancellationToken.None);

        Assert.True(result.IsUp, result.ToString());
        Assert.True(server.Requests.TryDequeue(out string? head));
        Assert.StartsWith("GET /ok HTTP/1.0\r\n", head, StringComparison.Ordinal);
        Assert.Contains($"\r\nHost: 127.0.0.1:{server.EndPoint.Port}", head, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Virtualhost_is_sent_as_the_host_header()
    {
        await using TinyHttpServer server = Server();
        var probe = new HttpGetProbe(Settings.Target(server.EndPoint), [Url("/ok")], virtualHost: "db.example.com");

        await probe.ProbeAsync(CancellationToken.None);

        Assert.True(server.Requests.TryDequeue(out string? head));
        Assert.Contains("\r\nHost: db.example.com\r\n", head, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Status_outside_the_ranges_is_down_with_the_status()
    {
        await using TinyHttpServer server = Server();
        var probe = new HttpGetProbe(Settings.Target(server.EndPoint), [Url("/maintenance")], null);

        ProbeResult result = await probe.ProbeAsync(CancellationToken.None);

        Assert.False(result.IsUp);
        Assert.Equal(503, result.ErrorCode);
        Assert.Contains("status 503, expected 200-299", result.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Configured_status_ranges_are_honoured()
    {
        await using TinyHttpServer server = Server();
        var probe = new HttpGetProbe(Settings.Target(server.EndPoint),
            [Url("/moved", null, new StatusCodeRange(200, 200), new StatusCodeRange(300, 399))], null);

        Assert.True((await probe.ProbeAsync(CancellationToken.None)).IsUp);
    }

    [Theory]
    [InlineData("/ok")]
    [InlineData("/no-length")]
    public async Task Matching_digest_is_up(string path)
    {
        await using TinyHttpServer server = Server();
        var probe = new HttpGetProbe(Settings.Target(server.EndPoint), [Url(path, PageDigest)], null);

        ProbeResult result = await probe.ProbeAsync(CancellationToken.None);

        Assert.True(result.IsUp, result.ToString());
        Assert.Contains(PageDigest, result.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Wrong_digest_is_down()
    {
        await using TinyHttpServer server = Server();
        string wrong = new('0', 32);
        var probe = new HttpGetProbe(Settings.Target(server.EndPoint), [Url("/ok", wrong)], null);

        ProbeResult result = await probe.ProbeAsync(CancellationToken.None);

        Assert.False(result.IsUp);
        Assert.Contains($"digest {PageDigest}, expected {wrong}", result.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Every_url_must_pass()
    {
        await using TinyHttpServer server = Server();
        var probe = new HttpGetProbe(Settings.Target(server.EndPoint), [Url("/ok"), Url("/maintenance")], null);

        ProbeResult result = await probe.ProbeAsync(CancellationToken.None);

        Assert.False(result.IsUp);
        Assert.Contains("/maintenance", result.Reason, StringComparison.Ordinal);
        Assert.Equal(2, server.Requests.Count);
    }

    [Fact]
    public async Task A_server_that_never_answers_is_down_by_the_timeout()
    {
        await using var silent = new SilentTcpServer();
        var probe = new HttpGetProbe(Settings.Target(silent.EndPoint, timeoutSeconds: 0.3), [Url("/ok")], null);

        ProbeResult result = await probe.ProbeAsync(CancellationToken.None);

        Assert.False(result.IsUp);
        Assert.Contains("timed out after 0.3 s while reading the response", result.Reason, StringComparison.Ordinal);
    }
}
