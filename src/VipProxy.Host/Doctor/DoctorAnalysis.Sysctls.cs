using VipProxy.Config.Model;

namespace VipProxy.Host.Doctor;

public static partial class DoctorAnalysis
{
    /// <summary>
    /// The per-interface IPv4 settings that make a VIP unreachable. For all three the kernel uses the larger of
    /// net.ipv4.conf.all and net.ipv4.conf.IF.
    /// </summary>
    private static void CheckSysctls(KeepalivedConfig config, HostSnapshot host, List<DoctorFinding> findings)
    {
        int before = findings.Count;
        foreach (string name in config.VrrpInstances.SelectMany(i => i.AllVirtualIpAddresses().Select(v => v.Device ?? i.Interface)).Distinct(StringComparer.Ordinal))
        {
            if (Link(host, name) is not { } link)
            {
                continue;
            }

            int? rpFilter = Effective(host, name, "rp_filter");
            int otherLinks = host.Links.Count(l => l.Name != name && l.Name != "lo" && l.Addresses.Count > 0);
            if (rpFilter == 1 && otherLinks > 0)
            {
                findings.Add(new DoctorFinding(DoctorSeverity.Warning, SysctlCheck,
                    $"rp_filter is 1 (strict) for {name} on a host with {otherLinks} other addressed interface(s): a packet arriving on {name} whose source routes out of another interface is dropped (clients of the VIP behind another route, unicast peers)",
                    $"sysctl -w net.ipv4.conf.all.rp_filter=2 net.ipv4.conf.{name}.rp_filter=2 (loose), and persist it in /etc/sysctl.d/"));
            }

            int? arpIgnore = Effective(host, name, "arp_ignore");
            List<VirtualIpAddress> vips = [.. config.VrrpInstances.SelectMany(i => i.AllVirtualIpAddresses().Where(v => (v.Device ?? i.Interface) == name))];
            if (arpIgnore == 8)
            {
                findings.Add(new DoctorFinding(DoctorSeverity.Error, SysctlCheck,
                    $"arp_ignore is 8 for {name}: this host answers no ARP request there, so once the gratuitous ARPs age out of the neighbours' caches no one reaches the VIP",
                    $"sysctl -w net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.{name}.arp_ignore=1"));
            }
            else if (arpIgnore == 2 && vips.Any(v => !link.Addresses.Any(a => !a.Address.Equals(v.Address) && a.Contains(v.Address))))
            {
                findings.Add(new DoctorFinding(DoctorSeverity.Error, SysctlCheck,
                    $"arp_ignore is 2 for {name}: ARP for an address is answered only when the asker is in that address's subnet, and a VIP outside {name}'s subnets has none, so neighbours that lose the VIP from their ARP cache cannot find it again",
                    $"sysctl -w net.ipv4.conf.{name}.arp_ignore=1, or use a VIP inside {name}'s subnet"));
            }

            int? arpAnnounce = Effective(host, name, "arp_announce");
            int sameSubnet = host.Links.Count(l => l.Name != name && vips.Any(v => l.Addresses.Any(a => a.Contains(v.Address))));
            if (sameSubnet > 0 && (arpIgnore ?? 0) == 0 && (arpAnnounce ?? 0) < 2)
            {
                findings.Add(new DoctorFinding(DoctorSeverity.Warning, SysctlCheck,
                    $"{sameSubnet} other interface(s) of this host are on the VIP's subnet and arp_ignore/arp_announce are {arpIgnore ?? 0}/{arpAnnounce ?? 0}: any of them may answer ARP for the VIP with its own MAC (ARP flux), and neighbours then keep that MAC after a failover",
                    $"sysctl -w net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.arp_announce=2"));
            }
        }

        if (findings.Count == before && config.VrrpInstances.Count > 0)
        {
            findings.Add(new DoctorFinding(DoctorSeverity.Ok, SysctlCheck, "rp_filter, arp_ignore and arp_announce do not stand in the VIP's way"));
        }
    }

    private static int? Effective(HostSnapshot host, string link, string name)
    {
        int? all = host.Sysctls.TryGetValue($"all/{name}", out int a) ? a : null;
        int? own = host.Sysctls.TryGetValue($"{link}/{name}", out int o) ? o : null;
        return all is null && own is null ? null : Math.Max(all ?? 0, own ?? 0);
    }
}
