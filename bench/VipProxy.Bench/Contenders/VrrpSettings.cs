using System.Globalization;
using System.Net;

namespace VipProxy.Bench.Contenders;

/// <summary>
/// One VRRP instance as both failover pairs run it (keepalived and vipproxy read the same grammar): VRRPv2,
/// advert_int 1, master priority 100, backup 90 — the timers REFERENCE.md measured keepalived's 3.65 s link-cut
/// takeover with.
/// </summary>
internal sealed record VrrpSettings(string Interface, bool IsMaster, IPAddress Vip, int PrefixLength)
{
    public const int RouterId = 77;

    public string Render() => string.Create(CultureInfo.InvariantCulture, $$"""

        vrrp_instance VI_BENCH {
            state {{(IsMaster ? "MASTER" : "BACKUP")}}
            interface {{Interface}}
            virtual_router_id {{RouterId}}
            priority {{(IsMaster ? 100 : 90)}}
            advert_int 1
            authentication {
                auth_type PASS
                auth_pass benchvip
            }
            virtual_ipaddress {
                {{Vip}}/{{PrefixLength}} dev {{Interface}}
            }
        }

        """);
}
