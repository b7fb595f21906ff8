using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using VipProxy.Cli.Commands;
using VipProxy.Config.Model;
using VipProxy.Forwarding.Runtime;
using VipProxy.Host.Metrics;
using VipProxy.Host.Status;

namespace VipProxy.Host.Tests;

/// <summary>Per-source refusals, from a running virtual server to the status JSON, the status table and Prometheus.</summary>
public class SourceLimitStatusTests
{
    [Fact]
    public async Task Per_source_refusals_reach_the_status_json_the_table_and_prometheus()
    {
        using var real = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        real.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        real.Listen(16);
        var config = new VirtualServer(
            new IPEndPoint(IPAddress.Loopback, 0), TimeSpan.FromSeconds(60), SchedulingAlgorithm.RoundRobin, null, IPAddress.Broadcast,
            null, false, false, 1, 0, null, null, false, false, null, TimeSpan.FromSeconds(5), null, false,
            MaxConnectionsPerSource: 1,
            ConnectionRatePerSource: new ConnectionRateLimit(2, TimeSpan.FromMinutes(10)),
            ValueList.From([new RealServer((IPEndPoint)real.LocalEndPoint!, 1, false, null, null, null, ValueList<HealthCheck>.Empty)]));
        await using var runtime = new VirtualServerRuntime(config);
        await runtime.StartAsync();

        // 127.0.0.2: one held (admitted), one over maxconn_per_source, one over the rate (3 attempts > 2).
        var held = await ConnectFromAsync(runtime.LocalEndpoint!, "127.0.0.2");
        using Socket server = await real.AcceptAsync().WaitAsync(TimeSpan.FromSeconds(20));
        (await ConnectFromAsync(runtime.LocalEndpoint!, "127.0.0.2")).Dispose();
        (await ConnectFromAsync(runtime.LocalEndpoint!, "127.0.0.2")).Dispose();
        await Eventually.TrueAsync(() => runtime.GetStatus().SourceLimitRefused + runtime.GetStatus().SourceRateRefused >= 2,
            TimeSpan.FromSeconds(20), "both refusals counted");

        VirtualServerReport forwarding = StatusMapping.From(runtime.GetStatus(), null);
        Assert.Equal(1, forwarding.SourceLimitRefused);
        Assert.Equal(1, forwarding.SourceRateRefused);
        Assert.Equal(2, forwarding.RefusedConnections);
        Assert.Equal(1, forwarding.TrackedSources);
        var report = new StatusReport("lb1", 1, "/etc/vipproxy/vipproxy.conf", DateTimeOffset.UnixEpoch, null, [], [forwarding]);

        string json = JsonSerializer.Serialize(report, StatusJsonContext.Default.StatusReport);
        Assert.Contains("\"refused_connections\": 2", json, StringComparison.Ordinal);
        Assert.Contains("\"source_limit_refused\": 1", json, StringComparison.Ordinal);
        Assert.Contains("\"source_rate_refused\": 1", json, StringComparison.Ordinal);
        Assert.Contains("\"tracked_sources\": 1", json, StringComparison.Ordinal);

        // `vipproxy status` reads the JSON back: the counters survive the round trip and reach the table.
        StatusReport read = JsonSerializer.Deserialize(json, StatusJsonContext.Default.StatusReport)!;
        Assert.Equal(1, read.VirtualServers[0].SourceLimitRefused);
        Assert.Equal(1, read.VirtualServers[0].SourceRateRefused);
        string table = StatusTable.Render(read);
        Assert.Contains("2 refused", table, StringComparison.Ordinal);
        Assert.Contains("per source: 1 maxconn, 1 rate", table, StringComparison.Ordinal);

        using var exporter = new PrometheusExporter(NodeMetrics.MeterName);
        using var metrics = new NodeMetrics(() => report);
        string text = exporter.Scrape();
        string vs = $"virtual_server=\"{forwarding.Address}:{forwarding.Port}\"";
        Assert.Contains("# TYPE vipproxy_virtual_server_source_refused_total counter", text, StringComparison.Ordinal);
        Assert.Contains($"vipproxy_virtual_server_source_refused_total{{limit=\"maxconn_per_source\",{vs}}} 1\n", text, StringComparison.Ordinal);
        Assert.Contains($"vipproxy_virtual_server_source_refused_total{{limit=\"conn_rate_per_source\",{vs}}} 1\n", text, StringComparison.Ordinal);
        Assert.Contains($"vipproxy_virtual_server_refused_total{{{vs}}} 2\n", text, StringComparison.Ordinal);
        Assert.Contains($"vipproxy_virtual_server_tracked_sources{{{vs}}} 1\n", text, StringComparison.Ordinal);
        held.Dispose();
    }

    private static async Task<Socket> ConnectFromAsync(IPEndPoint endpoint, string source)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Parse(source), 0));
        try
        {
            await socket.ConnectAsync(endpoint).WaitAsync(TimeSpan.FromSeconds(20));
        }
        catch (SocketException)
        {
            // A refused client may see its reset before the connect completes.
        }

        return socket;
    }
}
