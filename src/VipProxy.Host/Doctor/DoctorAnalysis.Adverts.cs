using System.Globalization;
using System.Net;
using VipProxy.Config.Model;
using VipProxy.Vrrp.Protocol;
using VipProxy.Vrrp.Runtime;

namespace VipProxy.Host.Doctor;

public static partial class DoctorAnalysis
{
    /// <summary>
    /// Every VRRP router heard on the file's interfaces, judged with the daemon's own codec and receive checks
    /// (<see cref="VrrpCodec.Decode"/>, <see cref="VrrpAdvertisementValidator"/>): a router of this file's virtual router
    /// is a peer; one using the same VRID for other addresses, or whose adverts this node would reject, is a collision
    /// that makes both sides master.
    /// </summary>
    private static List<ObservedRouter> CheckAdverts(KeepalivedConfig config, HostSnapshot host, List<DoctorFinding> findings)
    {
        var routers = new List<ObservedRouter>();
        foreach (VrrpCapture capture in host.Captures)
        {
            string seconds = capture.Duration.TotalSeconds.ToString("0.#", CultureInfo.InvariantCulture);
            if (capture.Error is { } error)
            {
                findings.Add(new DoctorFinding(DoctorSeverity.Warning, VrrpCheck, $"could not listen for VRRP on {capture.Interface}: {error}",
                    "run vipproxy doctor as root (a raw socket needs CAP_NET_RAW)"));
                continue;
            }

            List<VrrpInstance> instances = [.. config.VrrpInstances.Where(i => i.Interface == capture.Interface)];
            HashSet<IPAddress> own = [.. instances.Select(i => PrimaryAddress(i, host)).OfType<IPAddress>()];
            var heard = new Dictionary<(IPAddress Source, byte Vrid, VrrpVersion Version), (ReceivedAdvertisement Last, int Count)>();
            var undecodable = new Dictionary<DropReason, int>();
            foreach (byte[] datagram in capture.Datagrams)
            {
                VrrpVerdict decoded = VrrpCodec.Decode(datagram);
                if (decoded.Advertisement is not { } advert)
                {
                    undecodable[decoded.DropReason] = undecodable.GetValueOrDefault(decoded.DropReason) + 1;
                    continue;
                }

                var key = (advert.Source, advert.Packet.VirtualRouterId, advert.Packet.Version);
                heard[key] = (advert, heard.TryGetValue(key, out var seen) ? seen.Count + 1 : 1);
            }

            foreach ((DropReason reason, int count) in undecodable)
            {
                findings.Add(new DoctorFinding(DoctorSeverity.Warning, VrrpCheck,
                    $"{count} protocol-112 datagram(s) on {capture.Interface} are not valid VRRP adverts ({reason}); a device on the LAN sends broken or non-VRRP packets with protocol 112 (CARP uses it too)",
                    "find the sender with tcpdump -ni IF ip proto 112"));
            }

            if (heard.Count == 0)
            {
                findings.Add(new DoctorFinding(DoctorSeverity.Info, VrrpCheck,
                    $"no VRRP router heard on {capture.Interface} in {seconds} s: no other node of this virtual router is running yet, or adverts do not reach this host (a firewall drop above, a switch or hypervisor filtering multicast)",
                    "start the other node and run the doctor again; on VMs and clouds see README \"Deploying\""));
            }

            foreach (((IPAddress source, byte vrid, VrrpVersion version), (ReceivedAdvertisement last, int count)) in heard.OrderBy(h => h.Key.Vrid).ThenBy(h => PacketAddress(h.Key.Source)))
            {
                VrrpPacket packet = last.Packet;
                routers.Add(new ObservedRouter(capture.Interface, source, last.Destination, vrid, packet.Priority, (int)version, packet.AdvertisementInterval,
                    [.. packet.Addresses], packet.AuthType == VrrpAuthType.SimplePassword ? "PASS" : packet.AuthType == VrrpAuthType.None ? "none" : $"type {(int)packet.AuthType}", count));
                if (own.Contains(source))
                {
                    continue;
                }

                string router = $"router {source} on {capture.Interface} (VRID {vrid}, priority {packet.Priority}, VRRPv{(int)version}, advert_int {Interval(packet.AdvertisementInterval)}, VIPs {Join(packet.Addresses)})";
                VrrpInstance? instance = instances.FirstOrDefault(i => i.VirtualRouterId == vrid);
                if (instance is null)
                {
                    findings.Add(new DoctorFinding(DoctorSeverity.Info, VrrpCheck, $"{router}: another virtual router, no VRID of this file"));
                    continue;
                }

                findings.Add(Judge(config, host, instance, router, last));
            }

            foreach (VrrpInstance instance in instances)
            {
                foreach (IPAddress peer in instance.UnicastPeers.Where(p => !heard.Keys.Any(k => k.Source.Equals(p) && k.Vrid == instance.VirtualRouterId)))
                {
                    findings.Add(new DoctorFinding(DoctorSeverity.Info, VrrpCheck,
                        $"vrrp_instance {instance.Name}: unicast_peer {peer} sent no advert for VRID {instance.VirtualRouterId} in {seconds} s (not running, or its adverts are dropped on the way)"));
                }
            }
        }

        return routers;
    }

    private static DoctorFinding Judge(KeepalivedConfig config, HostSnapshot host, VrrpInstance instance, string router, ReceivedAdvertisement advert)
    {
        string subject = $"vrrp_instance {instance.Name}";
        IPAddress self = PrimaryAddress(instance, host) ?? IPAddress.Any;
        VrrpInstanceOptions options = OptionsMapper.Map(instance, config.Global, self);
        VrrpVerdict verdict = VrrpAdvertisementValidator.Validate(advert, options);
        string freeVrid = "give one of the two virtual routers another virtual_router_id (1-255, unused on this LAN), on all of its nodes";
        if (!verdict.IsAccepted)
        {
            string why = verdict.DropReason switch
            {
                DropReason.WrongVersion => $"it speaks VRRPv{(int)advert.Packet.Version} and this instance VRRPv{(int)options.Version}",
                DropReason.AuthTypeMismatch => $"its auth type is {advert.Packet.AuthType} and this instance's {options.AuthType}",
                DropReason.AuthPasswordMismatch => "its auth_pass differs from this instance's",
                DropReason.AdvertIntervalMismatch => $"its advert_int is {Interval(advert.Packet.AdvertisementInterval)} and this instance's {Interval(options.AdvertisementInterval)} (VRRPv2 requires them equal)",
                DropReason.TtlNot255 => $"its TTL is {advert.TimeToLive}, not 255: it crossed a router",
                DropReason.SourceNotUnicastPeer => "it is not one of this instance's unicast_peer addresses",
                _ => verdict.DropReason.ToString(),
            };
            bool sameAddresses = advert.Packet.Addresses.Length == options.VirtualAddresses.Count && options.VirtualAddresses.All(a => advert.Packet.Addresses.Contains(a));
            string fix = sameAddresses
                ? $"make the nodes of VRID {instance.VirtualRouterId} agree (version, authentication, advert_int, unicast_peer); until then each ignores the other and all become master"
                : freeVrid;
            return new DoctorFinding(DoctorSeverity.Error, VrrpCheck,
                $"{subject}: {router} uses this file's VRID {instance.VirtualRouterId} and this node would reject its adverts: {why}", fix);
        }

        if (verdict.Notes.HasFlag(AdvertisementNotes.VirtualAddressMismatch) && !config.Global.SkipCheckAdvertAddresses)
        {
            return new DoctorFinding(DoctorSeverity.Error, VrrpCheck,
                $"{subject}: VRID collision: {router} advertises VRID {instance.VirtualRouterId} for other addresses than this instance's ({Join(options.VirtualAddresses)}); the two virtual routers would elect one master between them",
                freeVrid);
        }

        if (advert.Packet.Priority == options.Priority)
        {
            return new DoctorFinding(DoctorSeverity.Warning, VrrpCheck,
                $"{subject}: peer {router} has this node's priority {options.Priority}; the higher primary address wins every election, whatever state the nodes were in",
                "give the intended master the higher priority");
        }

        return new DoctorFinding(DoctorSeverity.Ok, VrrpCheck, $"{subject}: peer {router}; this node's priority is {options.Priority}");
    }

    private static string Interval(TimeSpan interval) => $"{interval.TotalSeconds.ToString("0.##", CultureInfo.InvariantCulture)} s";

    private static string Join(IEnumerable<IPAddress> addresses) => addresses.Any() ? string.Join(", ", addresses) : "none";

    private static uint PacketAddress(IPAddress address) => Firewall.PacketFields.ToUInt32(address);
}
