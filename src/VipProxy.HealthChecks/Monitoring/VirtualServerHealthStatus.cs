using System.Net;

namespace VipProxy.HealthChecks.Monitoring;

/// <summary>A snapshot of a virtual server's health.</summary>
/// <param name="Endpoint">The virtual server.</param>
/// <param name="HasQuorum">Whether the live weight meets the quorum (with hysteresis).</param>
/// <param name="LiveWeight">Sum of the weights of the real servers that are up.</param>
/// <param name="RealServers">Each real server's status.</param>
public sealed record VirtualServerHealthStatus(IPEndPoint Endpoint, bool HasQuorum, long LiveWeight, IReadOnlyList<RealServerHealthStatus> RealServers);
