using System.Net;

namespace VipProxy.Host.Doctor;

/// <summary>The doctor's verdict on this host: every finding, and every VRRP router heard while listening.</summary>
public sealed record DoctorResult(IReadOnlyList<DoctorFinding> Findings, IReadOnlyList<ObservedRouter> Routers)
{
    /// <summary>True when something blocks (any <see cref="DoctorSeverity.Error"/>): the exit code is then 1.</summary>
    public bool Blocks => Findings.Any(f => f.Severity == DoctorSeverity.Error);
}

/// <summary>A VRRP router heard on one interface: its last advert, and how many it sent while the doctor listened.</summary>
/// <param name="Destination">224.0.0.18 (or the configured group), or this host's address for a unicast advert.</param>
public sealed record ObservedRouter(
    string Interface,
    IPAddress Source,
    IPAddress Destination,
    int VirtualRouterId,
    int Priority,
    int Version,
    TimeSpan AdvertInterval,
    IReadOnlyList<IPAddress> Addresses,
    string Authentication,
    int Adverts);
