using System.Net;
using VipProxy.Config;
using VipProxy.Config.Binding;
using VipProxy.Config.Model;
using VipProxy.Host.Doctor;
using VipProxy.Vrrp.Protocol;

namespace VipProxy.Host.Tests.Doctor;

/// <summary>Files and host snapshots for the doctor's tests: a node on eth0 (198.18.0.1/24) with VIP 198.18.0.100.</summary>
internal static class DoctorHosts
{
    public const ulong AllNetworkCapabilities = (1UL << 10) | (1UL << 12) | (1UL << 13);
    public static readonly IPAddress Vip = IPAddress.Parse("198.18.0.100");
    public static readonly IPAddress Self = IPAddress.Parse("198.18.0.1");
    public static readonly IPAddress Peer = IPAddress.Parse("198.18.0.2");

    public static KeepalivedConfig NodeConfig(string instanceExtra = "", int port = 3306, string vip = "198.18.0.100/24", int version = 2, string advertInterval = "1", string globals = "")
    {
        ConfigLoadResult result = ConfigLoader.LoadText("/test/doctor.conf", $$"""
            global_defs {
                {{globals}}
            }
            vrrp_instance VI_1 {
                state BACKUP
                interface eth0
                virtual_router_id 51
                priority 100
                version {{version}}
                advert_int {{advertInterval}}
                {{instanceExtra}}
                virtual_ipaddress {
                    {{vip}}
                }
            }
            virtual_server 198.18.0.100 {{port}} {
                lb_algo rr
                real_server 198.18.1.10 {{port}} {
                    weight 1
                }
            }
            """);
        Assert.False(result.HasErrors, string.Join("\n", result.Errors));
        return result.Config!;
    }

    public const string PassAuth = "authentication {\n auth_type PASS\n auth_pass secret1\n }";

    public static HostLink Eth0(bool up = true, bool carrier = true, string address = "198.18.0.1", int prefix = 24) =>
        new("eth0", up, carrier, Multicast: true, [new HostInterface("eth0", IPAddress.Parse(address), prefix)]);

    public static HostSnapshot Healthy(params HostLink[] extraLinks) => new()
    {
        EffectiveCapabilities = AllNetworkCapabilities,
        Links = [new HostLink("lo", true, true, false, [new HostInterface("lo", IPAddress.Loopback, 8)]), Eth0(), .. extraLinks],
        Sysctls = new Dictionary<string, int> { ["all/rp_filter"] = 0, ["eth0/rp_filter"] = 0, ["all/arp_ignore"] = 0, ["eth0/arp_ignore"] = 0 },
        Nftables = Tool("""{"nftables": [{"metainfo": {"version": "1.0.6"}}]}"""),
        NftablesListing = Tool(""),
    };

    public static ToolOutput Tool(string output) => new(true, 0, output, "");

    /// <summary>A VRRP advert as another router on eth0 sends it.</summary>
    public static byte[] Advert(IPAddress source, byte vrid = 51, byte priority = 150, VrrpVersion version = VrrpVersion.V2, int intervalCentiseconds = 100,
        string? password = "secret1", string vip = "198.18.0.100")
    {
        bool v2 = version == VrrpVersion.V2;
        var packet = new VrrpPacket
        {
            Version = version,
            VirtualRouterId = vrid,
            Priority = priority,
            AdvertisementInterval = TimeSpan.FromMilliseconds(intervalCentiseconds * 10),
            Addresses = [IPAddress.Parse(vip)],
            AuthType = v2 && password is not null ? VrrpAuthType.SimplePassword : VrrpAuthType.None,
            AuthData = v2 && password is not null ? [.. System.Text.Encoding.ASCII.GetBytes(password.PadRight(8, '\0'))] : [],
        };
        return VrrpCodec.EncodeIPv4DatagramToArray(packet, source, VrrpCodec.MulticastGroup);
    }

    public static HostSnapshot Hearing(HostSnapshot host, params byte[][] datagrams) =>
        host with { Captures = [new VrrpCapture("eth0", TimeSpan.FromSeconds(3), datagrams)] };

    public static IEnumerable<DoctorFinding> Of(this DoctorResult result, string check) => result.Findings.Where(f => f.Check == check);

    public static IEnumerable<DoctorFinding> Problems(this DoctorResult result, string check) =>
        result.Of(check).Where(f => f.Severity is DoctorSeverity.Warning or DoctorSeverity.Error);
}
