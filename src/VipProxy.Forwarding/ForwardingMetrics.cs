using System.Diagnostics.Metrics;

namespace VipProxy.Forwarding;

/// <summary>
/// Distributions that only the data path can see (meter "VipProxy.Forwarding"): how long proxied connections
/// live and how long connecting to a real server takes. Recorded once per connection, never per read.
/// </summary>
public static class ForwardingMetrics
{
    public const string MeterName = "VipProxy.Forwarding";

    private static readonly Meter Meter = new(MeterName);

    /// <summary>Seconds from accept to close, by virtual server and close reason.</summary>
    public static readonly Histogram<double> ConnectionDuration = Meter.CreateHistogram<double>(
        "vipproxy_connection_duration_seconds", unit: "s", description: "Lifetime of proxied connections, from accept to close.");

    /// <summary>Seconds to establish the connection to the real server, by virtual and real server.</summary>
    public static readonly Histogram<double> ConnectLatency = Meter.CreateHistogram<double>(
        "vipproxy_connect_latency_seconds", unit: "s", description: "Time to connect to the chosen real server.");
}
