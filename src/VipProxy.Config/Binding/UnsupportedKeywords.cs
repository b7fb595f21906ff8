namespace VipProxy.Config.Binding;

/// <summary>
/// keepalived keywords that VipProxy recognises but does not implement. Each is an error that says why,
/// never a silent no-op; keywords that are harmless to ignore are warnings, listed apart.
/// </summary>
internal static class UnsupportedKeywords
{
    public static readonly IReadOnlyDictionary<string, string> Errors = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["vrrp_sync_group"] = "sync groups are not implemented; run the instances independently",
        ["virtual_server_group"] = "virtual_server_group is not implemented; declare each virtual_server",
        ["static_ipaddress"] = "VipProxy manages only virtual addresses; configure static ones with the system's network tools",
        ["static_routes"] = "VipProxy does not manage routes",
        ["static_rules"] = "VipProxy does not manage routing rules",
        ["virtual_routes"] = "VipProxy does not manage routes",
        ["virtual_rules"] = "VipProxy does not manage routing rules",
        ["use_vmac"] = "virtual MAC addresses (macvlan) are not implemented; VIPs are added to the interface itself",
        ["vmac_xmit_base"] = "virtual MAC addresses are not implemented",
        ["native_ipv6"] = "VipProxy supports IPv4 only",
        ["virtual_ipaddress6"] = "VipProxy supports IPv4 only",
        ["track_file"] = "track_file is not implemented; use track_script",
        ["track_process"] = "track_process is not implemented; use track_script",
        ["track_bfd"] = "BFD is not implemented",
        ["vrrp_track_file"] = "track_file is not implemented; use vrrp_script",
        ["vrrp_track_process"] = "track_process is not implemented; use vrrp_script",
        ["bfd_instance"] = "BFD is not implemented",
        ["garp_group"] = "garp_group is not implemented; set garp_* on the instance",
        ["net_namespace"] = "run VipProxy inside the namespace instead (ip netns exec)",
        ["lvs_sync_daemon"] = "there is no kernel IPVS connection table to synchronise: VipProxy is a userspace proxy",
        ["lvs_sync_daemon_interface"] = "there is no kernel IPVS connection table to synchronise: VipProxy is a userspace proxy",
        ["enable_traps"] = "SNMP is not implemented",
        ["enable_snmp_vrrp"] = "SNMP is not implemented",
        ["enable_snmp_checker"] = "SNMP is not implemented",
        ["enable_dbus"] = "D-Bus is not implemented; use 'vipproxy status --json'",
        ["persistence_engine"] = "persistence engines (e.g. SIP) are not implemented",
        ["ops"] = "one-packet scheduling is for UDP, which VipProxy does not forward",
        ["sorry_server_lvs_method"] = "VipProxy proxies every connection (NAT-like); other forwarding methods do not exist here",
        ["SSL_GET"] = "SSL_GET is not implemented; use HTTP_GET against a plain port, TCP_CHECK or MISC_CHECK",
        ["SMTP_CHECK"] = "SMTP_CHECK is not implemented; use TCP_CHECK or MISC_CHECK",
        ["DNS_CHECK"] = "DNS_CHECK is not implemented; use MISC_CHECK",
        ["BFD_CHECK"] = "BFD is not implemented",
        ["FILE_CHECK"] = "FILE_CHECK is not implemented; use MISC_CHECK",
        ["PING_CHECK"] = "PING_CHECK is not implemented; use TCP_CHECK",
        ["UDP_CHECK"] = "UDP_CHECK is not implemented: VipProxy forwards TCP only",
        ["fwmark"] = "firewall-mark virtual servers need kernel IPVS; VipProxy listens on an address and port",
    };

    /// <summary>keepalived keywords with no effect here; they are accepted with a warning so existing files still load.</summary>
    public static readonly IReadOnlyDictionary<string, string> Ignored = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["notification_email"] = "VipProxy sends no email; use notify scripts",
        ["notification_email_from"] = "VipProxy sends no email; use notify scripts",
        ["smtp_server"] = "VipProxy sends no email; use notify scripts",
        ["smtp_connect_timeout"] = "VipProxy sends no email; use notify scripts",
        ["smtp_helo_name"] = "VipProxy sends no email; use notify scripts",
        ["smtp_alert"] = "VipProxy sends no email; use notify scripts",
        ["smtp_alert_vrrp"] = "VipProxy sends no email; use notify scripts",
        ["smtp_alert_checker"] = "VipProxy sends no email; use notify scripts",
        ["vrrp_strict"] = "VipProxy adds no firewall rules and keeps unicast and authentication available",
        ["vrrp_iptables"] = "VipProxy adds no firewall rules",
        ["vrrp_ipsets"] = "VipProxy adds no firewall rules",
        ["nftables"] = "VipProxy adds no firewall rules",
        ["lvs_timeouts"] = "there are no kernel IPVS timeouts; see idle_timeout",
        ["lvs_id"] = "there is no kernel IPVS",
        ["linkbeat_use_polling"] = "link state always comes from netlink",
        ["dynamic_interfaces"] = "interfaces are looked up when the instance starts",
        ["vrrp_no_swap"] = "memory is not locked",
        ["checker_no_swap"] = "memory is not locked",
        ["vrrp_priority"] = "process priority is left to systemd",
        ["checker_priority"] = "process priority is left to systemd",
        ["max_auto_priority"] = "process priority is left to systemd",
        ["debug"] = "use the log level of the host instead",
        ["accept"] = "the master always accepts traffic to its VIPs",
        ["no_accept"] = "the master always accepts traffic to its VIPs",
        ["lthreshold"] = "only the upper threshold (uthreshold/maxconn) is enforced",
        ["ha_suspend"] = "health checks always run, on the backup too, so that it is ready to take over",
        ["vrrp_gna_interval"] = "IPv6 neighbour advertisements are not sent: VipProxy supports IPv4 only",
        ["vrrp_lower_prio_no_advert"] = "a master always answers a lower priority with an advert",
        ["vrrp_higher_prio_send_advert"] = "VipProxy always does this: a master that hears a higher priority sends one advert before it steps down",
        ["vrrp_check_unicast_src"] = "adverts from addresses not in unicast_peer are always dropped",
    };
}
