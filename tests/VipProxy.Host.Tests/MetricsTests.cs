using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using VipProxy.Host.Metrics;
using VipProxy.Host.Status;
using VipProxy.Vrrp;

namespace VipProxy.Host.Tests;

public class MetricsTests
{
    private static StatusReport SampleReport() => new(
        "lb1", 42, "/etc/vipproxy/vipproxy.conf", DateTimeOffset.UnixEpoch, null,
        [
            new VrrpInstanceStatus("VI_1", "eth0", 56, 2, "MASTER", 100, 100, "198.18.0.1", ["198.18.0.200"], 3, 120, 7,
                new Dictionary<string, long> { ["BadChecksum"] = 2 }),
        ],
        [
            new VirtualServerReport("198.18.0.200", 8066, "rr", true, true, 0, 1, 9, 0,
            [
                new RealServerReport("198.18.1.1", 8066, 1, true, "logged in", null, 1, 0, 5, 1000, 2000, 0, false),
                new RealServerReport("198.18.1.2", 8066, 0, false, "1045 Access denied", null, 0, 0, 4, 10, 20, 3, true),
            ]),
        ]);

    [Fact]
    public void Node_figures_are_exported_in_prometheus_text_format()
    {
        using var exporter = new PrometheusExporter(NodeMetrics.MeterName);
        using var metrics = new NodeMetrics(SampleReport);
        string text = exporter.Scrape();
        Assert.Contains("# TYPE vipproxy_vrrp_state gauge", text, StringComparison.Ordinal);
        Assert.Contains("vipproxy_vrrp_state{instance=\"VI_1\",state=\"MASTER\"} 1\n", text, StringComparison.Ordinal);
        Assert.Contains("vipproxy_vrrp_state{instance=\"VI_1\",state=\"BACKUP\"} 0\n", text, StringComparison.Ordinal);
        Assert.Contains("# TYPE vipproxy_vrrp_dropped_packets_total counter", text, StringComparison.Ordinal);
        Assert.Contains("vipproxy_vrrp_dropped_packets_total{instance=\"VI_1\",reason=\"BadChecksum\"} 2\n", text, StringComparison.Ordinal);
        Assert.Contains("vipproxy_real_server_up{real_server=\"198.18.1.2:8066\",virtual_server=\"198.18.0.200:8066\"} 0\n", text, StringComparison.Ordinal);
        Assert.Contains("vipproxy_real_server_failed_connects_total{real_server=\"198.18.1.2:8066\",virtual_server=\"198.18.0.200:8066\"} 3\n", text, StringComparison.Ordinal);
        Assert.Contains("vipproxy_virtual_server_connections_total{virtual_server=\"198.18.0.200:8066\"} 9\n", text, StringComparison.Ordinal);
        AssertValidExposition(text);
    }

    [Fact]
    public void Reload_outcome_and_time_are_exported()
    {
        var refusedAt = new DateTimeOffset(2026, 12, 3, 8, 0, 0, TimeSpan.Zero);
        StatusReport Refused() => SampleReport() with { LastReload = new ReloadStatus(refusedAt, Applied: false, ["x.conf:3:1: unknown keyword"]) };
        StatusReport Applied() => SampleReport() with { LastReload = new ReloadStatus(refusedAt.AddMinutes(1), Applied: true, []) };

        using (var exporter = new PrometheusExporter(NodeMetrics.MeterName))
        using (var metrics = new NodeMetrics(SampleReport))
        {
            string text = exporter.Scrape();
            Assert.Contains("vipproxy_config_last_reload_successful 1\n", text, StringComparison.Ordinal);
            Assert.Contains("vipproxy_config_last_reload_timestamp_seconds 0\n", text, StringComparison.Ordinal);
        }

        using (var exporter = new PrometheusExporter(NodeMetrics.MeterName))
        using (var metrics = new NodeMetrics(Refused))
        {
            string text = exporter.Scrape();
            Assert.Contains("vipproxy_config_last_reload_successful 0\n", text, StringComparison.Ordinal);
            Assert.Contains($"vipproxy_config_last_reload_timestamp_seconds {refusedAt.ToUnixTimeSeconds()}\n", text, StringComparison.Ordinal);
            AssertValidExposition(text);
        }

        using (var exporter = new PrometheusExporter(NodeMetrics.MeterName))
        using (var metrics = new NodeMetrics(Applied))
        {
            Assert.Contains("vipproxy_config_last_reload_successful 1\n", exporter.Scrape(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Histograms_have_cumulative_buckets_sum_and_count()
    {
        string meterName = $"test.{Guid.NewGuid():N}";
        using var meter = new Meter(meterName);
        Histogram<double> histogram = meter.CreateHistogram<double>("test_duration_seconds", "s", "A test histogram.");
        using var exporter = new PrometheusExporter(meterName);
        histogram.Record(0.003, new KeyValuePair<string, object?>("vs", "a"));
        histogram.Record(2.0, new KeyValuePair<string, object?>("vs", "a"));
        string text = exporter.Scrape();
        Assert.Contains("# TYPE test_duration_seconds histogram", text, StringComparison.Ordinal);
        Assert.Contains("test_duration_seconds_bucket{vs=\"a\",le=\"0.0025\"} 0\n", text, StringComparison.Ordinal);
        Assert.Contains("test_duration_seconds_bucket{vs=\"a\",le=\"0.005\"} 1\n", text, StringComparison.Ordinal);
        Assert.Contains("test_duration_seconds_bucket{vs=\"a\",le=\"2.5\"} 2\n", text, StringComparison.Ordinal);
        Assert.Contains("test_duration_seconds_bucket{vs=\"a\",le=\"+Inf\"} 2\n", text, StringComparison.Ordinal);
        Assert.Contains("test_duration_seconds_count{vs=\"a\"} 2\n", text, StringComparison.Ordinal);
        AssertValidExposition(text);
    }

    [Fact]
    public async Task The_endpoint_serves_metrics_and_nothing_else()
    {
        await using var server = new MetricsHttpServer(new IPEndPoint(IPAddress.Loopback, 0), () => "x_total 1\n", NullLogger.Instance);
        server.Start();
        Assert.True(IPAddress.IsLoopback(server.LocalEndpoint!.Address));
        string ok = await GetAsync(server.LocalEndpoint, "/metrics");
        Assert.StartsWith("HTTP/1.0 200 OK\r\n", ok, StringComparison.Ordinal);
        Assert.Contains("Content-Type: text/plain; version=0.0.4", ok, StringComparison.Ordinal);
        Assert.EndsWith("\r\n\r\nx_total 1\n", ok, StringComparison.Ordinal);
        Assert.StartsWith("HTTP/1.0 404", await GetAsync(server.LocalEndpoint, "/admin"), StringComparison.Ordinal);
    }

    private static async Task<string> GetAsync(IPEndPoint endpoint, string path)
    {
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync(endpoint);
        await client.SendAsync(Encoding.ASCII.GetBytes($"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n"));
        using var stream = new NetworkStream(client);
        using var reader = new StreamReader(stream);
        return await reader.ReadToEndAsync();
    }

    // Every sample line is NAME{labels} VALUE with a TYPE line before it, as Prometheus parses it.
    private static void AssertValidExposition(string text)
    {
        var typed = new HashSet<string>();
        foreach (string line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            if (line.StartsWith("# TYPE ", StringComparison.Ordinal))
            {
                typed.Add(line.Split(' ')[2]);
                continue;
            }

            if (line.StartsWith('#'))
            {
                continue;
            }

            Assert.Matches(@"^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[a-zA-Z_][a-zA-Z0-9_]*=""[^""]*""(,[a-zA-Z_][a-zA-Z0-9_]*=""[^""]*"")*\})? -?[0-9.eE+\-]+$|^.*le=""\+Inf""\} [0-9]+$", line);
            string name = line.Split('{', ' ')[0];
            Assert.Contains(typed, t => name == t || name.StartsWith(t + "_", StringComparison.Ordinal));
        }
    }
}
