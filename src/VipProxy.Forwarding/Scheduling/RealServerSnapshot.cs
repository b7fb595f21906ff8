using System.Net;
using VipProxy.Core.ProxyProtocol;

namespace VipProxy.Forwarding.Scheduling;

/// <summary>
/// Immutable snapshot of one real server as the schedulers see it: identity, endpoint, weight and connection limit,
/// plus the shared mutable <see cref="ConnectionCounters"/>.
/// </summary>
/// <remarks>
/// A change of weight (for example <c>inhibit_on_failure</c> setting it to 0) produces a new snapshot with
/// <see cref="WithWeight"/>; the counters object is carried over so lc/wlc keep seeing the connections that are
/// already open.
/// </remarks>
public sealed class RealServerSnapshot
{
    /// <summary>Creates a snapshot.</summary>
    /// <param name="name">Stable identity, unique within a virtual server. keepalived identifies a real server by
    /// "ip port", so <c>ip:port</c> is the natural choice. Maglev hashes it, so both load balancer nodes must use
    /// the same names to map clients the same way.</param>
    /// <param name="endpoint">Where connections go (copied: <see cref="IPEndPoint"/> is mutable).</param>
    /// <param name="weight">0 drains: never chosen for new connections, existing ones continue.</param>
    /// <param name="maxConnections">Open connections at which the server counts as overloaded and is skipped for
    /// new connections (LVS <c>u_threshold</c>, keepalived <c>uthreshold</c>); 0 means unlimited.</param>
    /// <param name="counters">Live counters to share with earlier snapshots; a new object when null.</param>
    /// <param name="sendProxy">The PROXY protocol header each forwarded connection starts with (<c>send_proxy</c>,
    /// <c>send_proxy_v2</c>); carried here so the connect path reads it from the snapshot without a lookup.</param>
    public RealServerSnapshot(
        string name,
        IPEndPoint endpoint,
        int weight,
        long maxConnections = 0,
        ConnectionCounters? counters = null,
        ProxyProtocolVersion sendProxy = ProxyProtocolVersion.None)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(endpoint);
        ArgumentOutOfRangeException.ThrowIfNegative(weight);
        ArgumentOutOfRangeException.ThrowIfNegative(maxConnections);
        Name = name;
        Endpoint = new IPEndPoint(endpoint.Address, endpoint.Port);
        Weight = weight;
        MaxConnections = maxConnections;
        Counters = counters ?? new ConnectionCounters();
        SendProxy = sendProxy;
    }

    /// <summary>Creates a snapshot named after its endpoint (<c>ip:port</c>).</summary>
    public RealServerSnapshot(IPEndPoint endpoint, int weight, long maxConnections = 0)
        : this(endpoint?.ToString() ?? throw new ArgumentNullException(nameof(endpoint)), endpoint, weight, maxConnections)
    {
    }

    /// <summary>Stable identity within the virtual server.</summary>
    public string Name { get; }

    /// <summary>Address and port connections are forwarded to.</summary>
    public IPEndPoint Endpoint { get; }

    /// <summary>Scheduling weight; 0 drains.</summary>
    public int Weight { get; }

    /// <summary>Open-connection limit (0 = unlimited).</summary>
    public long MaxConnections { get; }

    /// <summary>The PROXY protocol header sent before the client's bytes; <see cref="ProxyProtocolVersion.None"/>: none.</summary>
    public ProxyProtocolVersion SendProxy { get; }

    /// <summary>Live counters, shared across snapshots of the same server.</summary>
    public ConnectionCounters Counters { get; }

    /// <summary>True while the open-connection limit is reached.</summary>
    /// <remarks>LVS sets its overload flag at <c>u_threshold</c> and clears it below <c>l_threshold</c>; without a
    /// lower threshold configured a single limit is enough here.</remarks>
    public bool IsOverloaded => MaxConnections > 0 && Counters.Open >= MaxConnections;

    /// <summary>True when a scheduler may give this server a new connection: weight above 0 and not overloaded.</summary>
    public bool AcceptsNewConnections => Weight > 0 && !IsOverloaded;

    /// <summary>Counts a new connection to this server unless that would exceed <see cref="MaxConnections"/>.</summary>
    public bool TryReserveConnection() => Counters.TryConnectionOpened(MaxConnections);

    /// <summary>The same server with another weight, sharing the live counters.</summary>
    public RealServerSnapshot WithWeight(int weight) =>
        weight == Weight ? this : new RealServerSnapshot(Name, Endpoint, weight, MaxConnections, Counters, SendProxy);

    /// <inheritdoc />
    public override string ToString() => $"{Name} (weight {Weight})";
}
