namespace VipProxy.HealthChecks.Decisions;

/// <summary>What a health result changed.</summary>
public enum HealthTransition
{
    /// <summary>The state did not change.</summary>
    None,

    /// <summary>The server (or checker) became up.</summary>
    WentUp,

    /// <summary>The server (or checker) became down.</summary>
    WentDown,
}
