namespace VipProxy.Host.Doctor;

/// <summary>How much a finding of <c>vipproxy doctor</c> matters. Only <see cref="Error"/> makes the exit code 1.</summary>
public enum DoctorSeverity
{
    /// <summary>Checked and fine.</summary>
    Ok,

    /// <summary>Worth knowing, changes nothing (another virtual router on the LAN, a tool that is not installed).</summary>
    Info,

    /// <summary>May break failover or clients under some conditions the doctor cannot see from here.</summary>
    Warning,

    /// <summary>Blocks: with this, the node cannot hold the VIP correctly (both nodes master, no adverts, no clients).</summary>
    Error,
}

/// <summary>One line of the doctor's report.</summary>
/// <param name="Check">The area: capabilities, interface, address, sysctl, firewall, vrrp.</param>
/// <param name="What">What was found, naming the interface, rule or router.</param>
/// <param name="Fix">What to do about it; null for <see cref="DoctorSeverity.Ok"/> findings.</param>
public sealed record DoctorFinding(DoctorSeverity Severity, string Check, string What, string? Fix = null);
