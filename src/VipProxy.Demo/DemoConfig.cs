using System.Globalization;
using System.Net;

namespace VipProxy.Demo;

/// <summary>
/// The two nodes' files: <c>conf/lb1.conf</c> and <c>conf/lb2.conf</c> with the demo's addresses and timers short
/// enough to watch (delay_loop 1, probes every second). Both ports use MYSQL_CHECK, since both are served by MariaDB.
/// </summary>
public static class DemoConfig
{
    public const int DataPort = 8066;
    public const int ManagementPort = 9066;
    public const int VirtualRouterId = 56;
    public const int AdvertIntervalSeconds = 1;
    public const int MasterPriority = 100;
    public const int BackupPriority = 90;

    public const string MonitorUser = "vipproxy_check";
    public const string MonitorPassword = "s3cret-check";
    public const string AppUser = "app";
    public const string AppPassword = "app-secret";

    /// <summary>The persistence of VIP:9066. VIP:8066 has none, so the demo can show round robin alternating.</summary>
    public const int ManagementPersistenceSeconds = 50;

    /// <summary>
    /// RFC 3768 Master_Down_Interval of a backup of <paramref name="priority"/>: 3 × advert_int + Skew_Time, with
    /// Skew_Time = (256 − priority) / 256 s. It runs from the last advert heard, so a failover measured from a link
    /// cut takes between this less one advert_int and this.
    /// </summary>
    public static TimeSpan MasterDownInterval(int priority) =>
        TimeSpan.FromSeconds((3 * AdvertIntervalSeconds) + ((256 - priority) / 256.0));

    /// <summary>The file for one LB node.</summary>
    public static string For(string routerId, bool master, string interfaceName, IPAddress vip, IReadOnlyList<IPAddress> realServers) =>
        string.Create(CultureInfo.InvariantCulture, $$"""
            ! vipproxy demo: {{routerId}}, the {{(master ? "MASTER" : "BACKUP")}} of the MyCat hot-standby pair.
            global_defs {
                router_id {{routerId}}
            }

            vrrp_instance VI_MYCAT {
                state {{(master ? "MASTER" : "BACKUP")}}
                interface {{interfaceName}}
                virtual_router_id {{VirtualRouterId}}
                priority {{(master ? MasterPriority : BackupPriority)}}
                advert_int {{AdvertIntervalSeconds}}
                authentication {
                    auth_type PASS
                    auth_pass mycat56
                }
                virtual_ipaddress {
                    {{vip}}/24
                }
            }

            ! MyCat data port: plain round robin, so consecutive queries alternate.
            {{VirtualServer(vip, DataPort, "", realServers)}}
            ! MyCat admin port: as in conf/lb1.conf, a client sticks to its real server for 50 s.
            {{VirtualServer(vip, ManagementPort, $"persistence_timeout {ManagementPersistenceSeconds}", realServers)}}
            """);

    private static string VirtualServer(IPAddress vip, int port, string options, IReadOnlyList<IPAddress> realServers) =>
        string.Create(CultureInfo.InvariantCulture, $$"""
            virtual_server {{vip}} {{port}} {
                delay_loop 1
                lb_algo rr
                lb_kind NAT
                protocol TCP
                {{options}}
            {{string.Concat(realServers.Select(r => RealServer(r, port)))}}}

            """);

    private static string RealServer(IPAddress address, int port) =>
        string.Create(CultureInfo.InvariantCulture, $$"""
                real_server {{address}} {{port}} {
                    weight 1
                    MYSQL_CHECK {
                        user {{MonitorUser}}
                        password "{{MonitorPassword}}"
                        connect_timeout 1
                        retry 1
                        delay_before_retry 0.5
                    }
                }

            """);
}
