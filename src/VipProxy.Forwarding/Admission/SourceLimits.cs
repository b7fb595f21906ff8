using VipProxy.Config.Model;

namespace VipProxy.Forwarding.Admission;

/// <summary>
/// The per-source limits of a virtual server: <c>maxconn_per_source N</c> (concurrent connections from one client
/// IP) and <c>conn_rate_per_source N SECS</c> (new connections from one client IP per period). Zero means unlimited.
/// </summary>
/// <param name="MaxConnections">Concurrent connections per source; 0 = unlimited.</param>
/// <param name="RateConnections">New connections per <paramref name="RatePeriod"/>; 0 = unlimited.</param>
/// <param name="RatePeriod">The rate's period (ignored when <paramref name="RateConnections"/> is 0).</param>
public readonly record struct SourceLimits(int MaxConnections, int RateConnections, TimeSpan RatePeriod)
{
    /// <summary>No limit at all: the admission table is not consulted.</summary>
    public static SourceLimits None => default;

    /// <summary>True when neither limit is set.</summary>
    public bool IsNone => MaxConnections <= 0 && !HasRate;

    /// <summary>True when a connection rate is limited.</summary>
    public bool HasRate => RateConnections > 0 && RatePeriod > TimeSpan.Zero;

    /// <summary>The limits configured on <paramref name="config"/>.</summary>
    public static SourceLimits From(VirtualServer config)
    {
        ArgumentNullException.ThrowIfNull(config);
        return new SourceLimits(
            config.MaxConnectionsPerSource ?? 0,
            config.ConnectionRatePerSource?.Connections ?? 0,
            config.ConnectionRatePerSource?.Period ?? TimeSpan.Zero);
    }
}

/// <summary>The admission table's answer for one new connection.</summary>
public enum SourceVerdict
{
    /// <summary>Within both limits (or untracked): serve it, then release the lease when it ends.</summary>
    Admitted,

    /// <summary>The source already has <c>maxconn_per_source</c> connections open.</summary>
    TooManyConnections,

    /// <summary>The source's connection rate is over <c>conn_rate_per_source</c>.</summary>
    RateExceeded,
}
