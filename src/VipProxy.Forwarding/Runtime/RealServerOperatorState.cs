namespace VipProxy.Forwarding.Runtime;

/// <summary>What an operator has put a real server in (<c>vipproxy server drain|disable|enable</c>).</summary>
public enum OperatorMode
{
    /// <summary>No operator mode: the health checks decide.</summary>
    None,

    /// <summary>No new connections, its persistence entries dropped; established connections continue.</summary>
    Drain,

    /// <summary>Maintenance: like <see cref="Drain"/> (established connections are closed only when asked).</summary>
    Disable,
}

/// <summary>
/// An operator's runtime override of one real server: a mode and a weight (<c>vipproxy server weight</c>). It is
/// kept apart from the health verdict and the configuration, so a reload that changes the configured weight, or a
/// health change, leaves it in force.
/// </summary>
/// <param name="Mode">Drain or disable, or none.</param>
/// <param name="Weight">The runtime weight (0..<see cref="MaxWeight"/>), or null for the configured one.</param>
public sealed record RealServerOperatorState(OperatorMode Mode, int? Weight)
{
    /// <summary>The largest weight, the same bound as the config's <c>weight</c> keyword.</summary>
    public const int MaxWeight = 65535;

    /// <summary>No override.</summary>
    public static RealServerOperatorState None { get; } = new(OperatorMode.None, null);

    /// <summary>True when nothing is overridden.</summary>
    public bool IsNone => Mode == OperatorMode.None && Weight is null;
}

/// <summary>
/// The one place that decides the weight a real server is scheduled with from everything that has a say: the
/// reload, the health verdict, <c>inhibit_on_failure</c>, a <c>misc_dynamic</c> checker and the operator. Pure.
/// </summary>
public static class RealServerWeightRules
{
    /// <summary>
    /// The weight for new connections, or null to leave the server out of the scheduler. Removed by a reload, or
    /// drained or disabled by the operator: out. Down: out, or 0 with <c>inhibit_on_failure</c>. Up: the operator's
    /// weight, else the <c>misc_dynamic</c> one, else the configured one. An operator's weight never brings a down
    /// server back: health still rules whether it is usable.
    /// </summary>
    public static int? Effective(bool removedByReload, bool up, bool inhibitOnFailure, int configuredWeight, int? dynamicWeight, RealServerOperatorState operatorState)
    {
        ArgumentNullException.ThrowIfNull(operatorState);
        if (removedByReload || operatorState.Mode != OperatorMode.None)
        {
            return null;
        }

        if (!up)
        {
            return inhibitOnFailure ? 0 : null;
        }

        return operatorState.Weight ?? dynamicWeight ?? configuredWeight;
    }
}
