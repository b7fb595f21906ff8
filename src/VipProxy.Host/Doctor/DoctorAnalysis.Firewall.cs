using System.Net;
using System.Text.Json;
using VipProxy.Config.Model;
using VipProxy.Host.Doctor.Firewall;

namespace VipProxy.Host.Doctor;

public static partial class DoctorAnalysis
{
    /// <summary>
    /// Runs the packets the node lives on through nftables and iptables: adverts from peers and to them, and a client's
    /// SYN to each virtual server. A rule that certainly drops one blocks; one that only may (it depends on the source,
    /// a set, a rate) is a warning.
    /// </summary>
    private static void CheckFirewall(KeepalivedConfig config, HostSnapshot host, List<DoctorFinding> findings)
    {
        List<FirewallPacket> packets = Packets(config, host);
        var rulesets = new List<FirewallRuleset>();
        AddRuleset(host.Nftables, "nft", () => NftRuleset.Parse(host.Nftables.Output, host.NftablesListing.Succeeded ? host.NftablesListing.Output : null), rulesets, findings);
        AddRuleset(host.Iptables, "iptables-save", () => IptablesRuleset.Parse(host.Iptables.Output), rulesets, findings);

        int before = findings.Count;
        foreach (FirewallRuleset ruleset in rulesets)
        {
            foreach (FirewallPacket packet in packets)
            {
                foreach (FirewallBlock block in FirewallEvaluator.Blocks(ruleset, packet))
                {
                    findings.Add(Finding(block));
                }
            }
        }

        if (findings.Count == before && rulesets.Count > 0)
        {
            findings.Add(new DoctorFinding(DoctorSeverity.Ok, FirewallCheck,
                $"{string.Join(" and ", rulesets.Select(r => r.Tool))} let{(rulesets.Count == 1 ? "s" : "")} VRRP adverts and the virtual servers' clients through"));
        }
    }

    private static void AddRuleset(ToolOutput output, string command, Func<FirewallRuleset> parse, List<FirewallRuleset> rulesets, List<DoctorFinding> findings)
    {
        if (!output.Found)
        {
            findings.Add(new DoctorFinding(DoctorSeverity.Info, FirewallCheck, $"{command} is not installed; its rules were not checked"));
            return;
        }

        if (!output.Succeeded)
        {
            findings.Add(new DoctorFinding(DoctorSeverity.Warning, FirewallCheck, $"{command} failed (exit {output.ExitCode}): {output.Error.Trim()}; its rules were not checked",
                "run vipproxy doctor as root (reading the ruleset needs CAP_NET_ADMIN)"));
            return;
        }

        try
        {
            rulesets.Add(parse());
        }
        catch (JsonException error)
        {
            findings.Add(new DoctorFinding(DoctorSeverity.Warning, FirewallCheck, $"{command} printed a ruleset the doctor cannot read ({error.Message}); its rules were not checked"));
        }
    }

    private static DoctorFinding Finding(FirewallBlock block)
    {
        FirewallPacket packet = block.Packet;
        string rule = block.Text == "policy drop" ? $"{block.Location}: its drop policy, with no rule accepting them first," : $"{block.Location}: \"{block.Text}\"";
        string verb = block.Certain ? "drops" : "may drop";
        return new DoctorFinding(block.Certain ? DoctorSeverity.Error : DoctorSeverity.Warning, FirewallCheck,
            $"{block.Tool} {rule} {verb} {packet.Description}", Fix(block));
    }

    /// <summary>An accept rule at the top of the chain that drops (an appended one would come after the drop), in that tool's syntax.</summary>
    private static string Fix(FirewallBlock block)
    {
        FirewallPacket packet = block.Packet;
        bool received = packet.Direction == PacketDirection.Received;
        bool nft = block.Tool == NftRuleset.Tool;
        string match;
        string persistent;
        if (packet.Protocol == FirewallPacket.Vrrp)
        {
            string device = packet.Interface is not { } name ? "" : nft ? $"{(received ? "iifname" : "oifname")} \"{name}\" " : $"{(received ? "-i" : "-o")} {name} ";
            string peer = received && !packet.Multicast && packet.Source is { } source ? (nft ? $"ip saddr {source} " : $"-s {source} ") : "";
            string destination = received ? (nft ? $"ip daddr {packet.Destination} " : $"-d {packet.Destination} ") : "";
            match = nft ? $"{device}{peer}{destination}ip protocol vrrp" : $"{device}{peer}{destination}-p vrrp";
            persistent = "firewalld: firewall-cmd --permanent --add-rich-rule='rule family=\"ipv4\" protocol value=\"vrrp\" accept' && firewall-cmd --reload; ufw: a -p vrrp rule in /etc/ufw/before.rules (README \"Deploying\")";
        }
        else
        {
            match = nft ? $"ip daddr {packet.Destination} tcp dport {packet.DestinationPort}" : $"-p tcp -d {packet.Destination} --dport {packet.DestinationPort}";
            persistent = $"firewalld: firewall-cmd --permanent --add-port={packet.DestinationPort}/tcp; ufw allow {packet.DestinationPort}/tcp";
        }

        string command = nft
            ? $"nft insert rule {block.Table} {block.Chain} {match} accept"
            : $"iptables {(block.Table == "filter" ? "" : $"-t {block.Table} ")}-I {block.Chain} {match} -j ACCEPT";
        return $"accept them before that {(block.Text == "policy drop" ? "policy" : "rule")}: {command} (and in the saved ruleset); {persistent}";
    }

    /// <summary>The packets a node must let through, from the file.</summary>
    private static List<FirewallPacket> Packets(KeepalivedConfig config, HostSnapshot host)
    {
        var packets = new List<FirewallPacket>();
        foreach (VrrpInstance instance in config.VrrpInstances)
        {
            IPAddress? self = PrimaryAddress(instance, host);
            if (instance.UnicastPeers.Count == 0)
            {
                IPAddress group = config.Global.MulticastGroup;
                packets.Add(new FirewallPacket($"VRRP adverts from the other nodes on {instance.Interface} (protocol 112 to {group}), so both nodes would become master",
                    PacketDirection.Received, instance.Interface, FirewallPacket.Vrrp, null, group, null, Multicast: true));
                packets.Add(new FirewallPacket($"this node's VRRP adverts out of {instance.Interface} (protocol 112 to {group}), so the other nodes would become master too",
                    PacketDirection.Sent, instance.Interface, FirewallPacket.Vrrp, self, group, null, Multicast: true));
                continue;
            }

            foreach (IPAddress peer in instance.UnicastPeers)
            {
                if (self is not null)
                {
                    packets.Add(new FirewallPacket($"VRRP adverts from unicast_peer {peer} (protocol 112 to {self}), so both nodes would become master",
                        PacketDirection.Received, instance.Interface, FirewallPacket.Vrrp, peer, self, null, Multicast: false));
                }

                packets.Add(new FirewallPacket($"this node's VRRP adverts to unicast_peer {peer} (protocol 112), so the peer would become master too",
                    PacketDirection.Sent, instance.Interface, FirewallPacket.Vrrp, self, peer, null, Multicast: false));
            }
        }

        foreach (VirtualServer server in config.VirtualServers)
        {
            // The interface where clients arrive: the one whose instance carries this VIP, when one does.
            string? device = config.VrrpInstances
                .SelectMany(i => i.AllVirtualIpAddresses().Select(v => (Vip: v, Device: v.Device ?? i.Interface)))
                .FirstOrDefault(p => p.Vip.Address.Equals(server.Endpoint.Address)).Device;
            packets.Add(new FirewallPacket($"clients' connections to virtual_server {server.Endpoint.Address} {server.Endpoint.Port} (TCP)",
                PacketDirection.Received, device, FirewallPacket.Tcp, null, server.Endpoint.Address, server.Endpoint.Port, Multicast: false));
        }

        return packets;
    }
}
