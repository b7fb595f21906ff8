namespace VipProxy.Config.Model;

/// <summary>The schedulers VipProxy implements, named after keepalived's <c>lb_algo</c> values.</summary>
public enum SchedulingAlgorithm
{
    /// <summary><c>rr</c>: round robin over servers with weight above 0.</summary>
    RoundRobin,

    /// <summary><c>wrr</c>: weighted round robin.</summary>
    WeightedRoundRobin,

    /// <summary><c>lc</c>: least connections.</summary>
    LeastConnection,

    /// <summary><c>wlc</c>: weighted least connections (keepalived's default <c>lb_algo</c>).</summary>
    WeightedLeastConnection,

    /// <summary><c>sh</c>: source hashing on the client address.</summary>
    SourceHashing,

    /// <summary><c>mh</c>: Maglev hashing on the client address.</summary>
    MaglevHashing,

    /// <summary><c>fo</c>: weighted failover, every new connection to the available server with the highest weight.</summary>
    WeightedFailover,
}

/// <summary>Conversion between <see cref="SchedulingAlgorithm"/> and keepalived's <c>lb_algo</c> names.</summary>
public static class SchedulingAlgorithmNames
{
    /// <summary>Parses an <c>lb_algo</c> name (case-insensitive). Names keepalived knows but VipProxy does not
    /// implement (lblc, lblcr, dh, sed, nq, ovf, twos) return false.</summary>
    public static bool TryParse(string? name, out SchedulingAlgorithm algorithm)
    {
        switch (name?.Trim().ToUpperInvariant())
        {
            case "RR": algorithm = SchedulingAlgorithm.RoundRobin; return true;
            case "WRR": algorithm = SchedulingAlgorithm.WeightedRoundRobin; return true;
            case "LC": algorithm = SchedulingAlgorithm.LeastConnection; return true;
            case "WLC": algorithm = SchedulingAlgorithm.WeightedLeastConnection; return true;
            case "SH": algorithm = SchedulingAlgorithm.SourceHashing; return true;
            case "MH": algorithm = SchedulingAlgorithm.MaglevHashing; return true;
            case "FO": algorithm = SchedulingAlgorithm.WeightedFailover; return true;
            default: algorithm = default; return false;
        }
    }

    /// <summary>The keepalived <c>lb_algo</c> name.</summary>
    public static string ToLbAlgoName(this SchedulingAlgorithm algorithm) => algorithm switch
    {
        SchedulingAlgorithm.RoundRobin => "rr",
        SchedulingAlgorithm.WeightedRoundRobin => "wrr",
        SchedulingAlgorithm.LeastConnection => "lc",
        SchedulingAlgorithm.WeightedLeastConnection => "wlc",
        SchedulingAlgorithm.SourceHashing => "sh",
        SchedulingAlgorithm.MaglevHashing => "mh",
        SchedulingAlgorithm.WeightedFailover => "fo",
        _ => throw new ArgumentOutOfRangeException(nameof(algorithm), algorithm, "Unknown scheduling algorithm."),
    };
}
