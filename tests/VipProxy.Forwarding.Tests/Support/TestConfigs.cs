using System.Net;
using VipProxy.Config.Model;

namespace VipProxy.Forwarding.Tests.Support;

/// <summary>Builds configuration records for forwarding tests.</summary>
internal static class TestConfigs
{
    public static RealServer Real(IPEndPoint endpoint, int weight = 1, int? maxConnections = null, bool inhibitOnFailure = false, bool backup = false) =>
        new(endpoint, weight, inhibitOnFailure, null, null, maxConnections, ValueList<HealthCheck>.Empty, Backup: backup);

    public static VirtualServer Virtual(
        SchedulingAlgorithm algorithm,
        IEnumerable<RealServer> realServers,
        string address = "127.0.0.1",
        TimeSpan? persistenceTimeout = null,
        int? maxConnections = null,
        TimeSpan? idleTimeout = null,
        IPEndPoint? sorryServer = null,
        TimeSpan? connectTimeout = null,
        TimeSpan? delayLoop = null,
        int? maxConnectionsPerSource = null,
        ConnectionRateLimit? connectionRatePerSource = null) =>
        new(
            new IPEndPoint(IPAddress.Parse(address), 0),
            delayLoop ?? TimeSpan.FromSeconds(60),
            algorithm,
            persistenceTimeout,
            IPAddress.Broadcast,
            sorryServer,
            false,
            false,
            1,
            0,
            null,
            null,
            false,
            false,
            maxConnections,
            connectTimeout ?? TimeSpan.FromSeconds(5),
            idleTimeout,
            false,
            maxConnectionsPerSource,
            connectionRatePerSource,
            ValueList.From(realServers));

    /// <summary>A loopback port that nothing listens on (bound, read, released).</summary>
    public static IPEndPoint DeadEndpoint()
    {
        using var probe = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
        probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return (IPEndPoint)probe.LocalEndPoint!;
    }
}
