using System.Net;
using VipProxy.Config.Binding;
using VipProxy.Config.Model;
using VipProxy.Host.Platform;

namespace VipProxy.Host.Doctor;

/// <summary>
/// <c>vipproxy doctor</c>'s judgement, pure: a validated file and a <see cref="HostSnapshot"/> in, findings out, each
/// with its fix. Nothing here reads the host; <see cref="HostProbe"/> does that.
/// </summary>
public static partial class DoctorAnalysis
{
    public const string CapabilitiesCheck = "capabilities";
    public const string InterfaceCheck = "interface";
    public const string AddressCheck = "address";
    public const string SysctlCheck = "sysctl";
    public const string FirewallCheck = "firewall";
    public const string VrrpCheck = "vrrp";

    public static DoctorResult Analyze(KeepalivedConfig config, HostSnapshot host)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(host);
        var findings = new List<DoctorFinding>();
        CheckCapabilities(config, host, findings);
        CheckInterfaces(config, host, findings);
        CheckSysctls(config, host, findings);
        CheckFirewall(config, host, findings);
        IReadOnlyList<ObservedRouter> routers = CheckAdverts(config, host, findings);
        return new DoctorResult(findings, routers);
    }

    private static void CheckCapabilities(KeepalivedConfig config, HostSnapshot host, List<DoctorFinding> findings)
    {
        bool needsVrrp = config.VrrpInstances.Count > 0;
        bool needsLowPorts = config.VirtualServers.Any(v => v.Endpoint.Port < 1024);
        bool needsTransparent = config.VirtualServers.Any(v => v.Transparent);
        IReadOnlyList<string> missing = Capabilities.Missing(host.EffectiveCapabilities, needsVrrp, needsLowPorts, needsTransparent);
        foreach (string capability in missing)
        {
            findings.Add(new DoctorFinding(DoctorSeverity.Error, CapabilitiesCheck, $"this process lacks {capability}",
                "run as root; under systemd: AmbientCapabilities=CAP_NET_ADMIN CAP_NET_RAW CAP_NET_BIND_SERVICE; "
                + "in a container: --network host --cap-add NET_ADMIN --cap-add NET_RAW (not --privileged)"));
        }

        if (missing.Count == 0)
        {
            findings.Add(new DoctorFinding(DoctorSeverity.Ok, CapabilitiesCheck, "this process has every capability the file needs"));
        }
    }

    private static void CheckInterfaces(KeepalivedConfig config, HostSnapshot host, List<DoctorFinding> findings)
    {
        foreach (VrrpInstance instance in config.VrrpInstances)
        {
            string subject = $"vrrp_instance {instance.Name}";
            HostLink? link = Link(host, instance.Interface);
            if (link is null)
            {
                findings.Add(new DoctorFinding(DoctorSeverity.Error, InterfaceCheck, $"{subject}: interface {instance.Interface} does not exist on this host",
                    $"correct 'interface' in the file, or run the node where {instance.Interface} exists (ip -br link lists the interfaces)"));
                continue;
            }

            CheckLinkState(subject, link, trackedWeight: null, dontTrack: instance.DontTrackPrimary, findings);
            if (!link.Multicast && instance.UnicastPeers.Count == 0)
            {
                findings.Add(new DoctorFinding(DoctorSeverity.Error, InterfaceCheck, $"{subject}: {link.Name} has no MULTICAST flag, so it cannot send or receive adverts to {config.Global.MulticastGroup}",
                    $"ip link set {link.Name} multicast on, or list the other nodes in unicast_peer {{ }}"));
            }

            if (instance.UnicastSourceIp is null && link.Addresses.Count == 0)
            {
                findings.Add(new DoctorFinding(DoctorSeverity.Error, AddressCheck, $"{subject}: {link.Name} has no IPv4 address to send adverts from",
                    $"give {link.Name} an address of the LAN (ip addr add ADDR/PREFIX dev {link.Name}), or set unicast_src_ip"));
            }

            foreach (TrackedInterface tracked in instance.TrackInterfaces)
            {
                HostLink? trackedLink = Link(host, tracked.Name);
                if (trackedLink is null)
                {
                    findings.Add(new DoctorFinding(DoctorSeverity.Error, InterfaceCheck, $"{subject}: tracked interface {tracked.Name} does not exist on this host",
                        "correct track_interface, or remove it"));
                }
                else
                {
                    CheckLinkState($"{subject} (track_interface)", trackedLink, tracked.Weight, dontTrack: false, findings);
                }
            }

            CheckVirtualAddresses(instance, link, host, findings);
        }
    }

    private static void CheckLinkState(string subject, HostLink link, int? trackedWeight, bool dontTrack, List<DoctorFinding> findings)
    {
        string problem = !link.AdminUp ? "is administratively down" : !link.Carrier ? "has no carrier (cable, switch port or peer interface down)" : "";
        if (problem.Length == 0)
        {
            findings.Add(new DoctorFinding(DoctorSeverity.Ok, InterfaceCheck, $"{subject}: {link.Name} is up with carrier"));
            return;
        }

        // A tracked interface with a weight only lowers the priority; the primary one with dont_track_primary is ignored.
        DoctorSeverity severity = dontTrack || trackedWeight is > 0 or < 0 ? DoctorSeverity.Warning : DoctorSeverity.Error;
        string consequence = severity == DoctorSeverity.Error ? "the instance would stay in FAULT and never hold its VIPs" : "adverts and clients cannot pass it";
        findings.Add(new DoctorFinding(severity, InterfaceCheck, $"{subject}: {link.Name} {problem}; {consequence}",
            link.AdminUp ? $"check the cable or the virtual switch port of {link.Name} (ip link show {link.Name} must say LOWER_UP)" : $"ip link set {link.Name} up"));
    }

    private static void CheckVirtualAddresses(VrrpInstance instance, HostLink primary, HostSnapshot host, List<DoctorFinding> findings)
    {
        foreach (VirtualIpAddress vip in instance.AllVirtualIpAddresses())
        {
            HostLink link = vip.Device is { } device && Link(host, device) is { } other ? other : primary;
            if (vip.Device is { } named && Link(host, named) is null)
            {
                findings.Add(new DoctorFinding(DoctorSeverity.Error, AddressCheck, $"vrrp_instance {instance.Name}: VIP {vip.Address} is for dev {named}, which does not exist on this host",
                    "correct 'dev' on the virtual_ipaddress line"));
                continue;
            }

            // The VIP itself may be on the interface already (this node is master, or someone added it by hand).
            HostInterface? subnet = link.Addresses.FirstOrDefault(a => !a.Address.Equals(vip.Address) && a.Contains(vip.Address));
            if (subnet is null)
            {
                findings.Add(new DoctorFinding(DoctorSeverity.Warning, AddressCheck,
                    $"vrrp_instance {instance.Name}: VIP {vip.Address} is outside every subnet of {link.Name} ({Addresses(link)}); neighbours on the LAN reach it only through a route, and ARP for it is answered only if they already know it is on-link",
                    $"use a free address of {link.Name}'s subnet as the VIP, or give neighbours a route to {vip.Address} via this LAN"));
            }
            else
            {
                findings.Add(new DoctorFinding(DoctorSeverity.Ok, AddressCheck, $"vrrp_instance {instance.Name}: VIP {vip.Address} is in {link.Name}'s subnet {subnet.Address}/{subnet.PrefixLength}"));
            }

            if (link.Addresses.Any(a => a.Address.Equals(vip.Address)))
            {
                findings.Add(new DoctorFinding(DoctorSeverity.Info, AddressCheck, $"vrrp_instance {instance.Name}: VIP {vip.Address} is already on {link.Name} (this node is master now, or it was added by hand)",
                    $"if no VRRP daemon runs here, remove it (ip addr del {vip.Address}/{vip.PrefixLength} dev {link.Name}): a VIP that no one moves answers from two nodes"));
            }
        }
    }

    internal static HostLink? Link(HostSnapshot host, string name) => host.Links.FirstOrDefault(l => l.Name == name);

    /// <summary>The address the instance's adverts come from: unicast_src_ip, else the interface's first IPv4 address.</summary>
    internal static IPAddress? PrimaryAddress(VrrpInstance instance, HostSnapshot host) =>
        instance.UnicastSourceIp ?? Link(host, instance.Interface)?.Addresses.FirstOrDefault(a => !instance.AllVirtualIpAddresses().Any(v => v.Address.Equals(a.Address)))?.Address;

    private static string Addresses(HostLink link) =>
        link.Addresses.Count == 0 ? "no IPv4 address" : string.Join(", ", link.Addresses.Select(a => $"{a.Address}/{a.PrefixLength}"));
}
