using System.Collections.Frozen;

namespace VipProxy.Config.Binding;

/// <summary>
/// Every keyword keepalived 2.2.7 installs, block by block: read from its parsers (core/global_parser.c,
/// vrrp/vrrp_parser.c, check/check_parser.c, the check/check_*.c checkers, bfd/bfd_parser.c,
/// trackers/track_file.c), every compile-time option included. It separates a keepalived keyword that VipProxy
/// does not implement (a precise "not supported") from a word keepalived does not know either (a typo: "did you
/// mean"). The contents of value blocks (virtual_ipaddress, unicast_peer, track_*, notification_email) are not
/// keywords; their options are checked where those lines are read.
/// </summary>
internal static class KeepalivedKeywords
{
    private static readonly Dictionary<string, FrozenSet<string>> Table = new(StringComparer.Ordinal)
    {
        ["the top level"] = Words(
            "SSL bfd_instance child_wait_time garp_group global_defs instance interface_up_down_delays linkbeat_interfaces",
            "linkbeat_use_polling namespace_with_ipsets net_namespace net_namespace_ipvs static_ipaddress static_routes",
            "static_rules track_file track_group use_pid_dir virtual_server virtual_server_group vrrp_instance vrrp_script",
            "vrrp_sync_group vrrp_track_file vrrp_track_process"),
        ["global_defs"] = Words(
            "bfd_cpu_affinity bfd_no_swap bfd_priority bfd_process_name bfd_rlimit_rtime bfd_rlimit_rttime bfd_rt_priority",
            "checker_cpu_affinity checker_log_all_failures checker_no_swap checker_priority checker_process_name",
            "checker_rlimit_rtime checker_rlimit_rttime checker_rt_priority config_save_dir data_use_instance",
            "dbus_service_name default_interface disable_local_igmp dynamic_interfaces enable_dbus enable_script_security",
            "enable_snmp_checker enable_snmp_keepalived enable_snmp_rfc enable_snmp_rfcv2 enable_snmp_rfcv3",
            "enable_snmp_vrrp enable_traps fifo_write_vrrp_states_on_reload include_check log_unknown_vrids lvs_flush",
            "lvs_flush_on_stop lvs_flush_onstop lvs_netlink_cmd_rcv_bufs lvs_netlink_cmd_rcv_bufs_force",
            "lvs_netlink_monitor_rcv_bufs lvs_netlink_monitor_rcv_bufs_force lvs_notify_fifo lvs_notify_fifo_script",
            "lvs_process_name lvs_sync_daemon lvs_timeouts max_auto_priority min_auto_priority_delay nftables",
            "nftables_counters nftables_ifindex nftables_ipvs nftables_ipvs_priority nftables_ipvs_start_fwmark",
            "nftables_priority no_checker_emails no_email_faults notification_email notification_email_from notify_fifo",
            "notify_fifo_script process_monitor_rcv_bufs process_monitor_rcv_bufs_force process_name process_names",
            "random_seed reload_check_config reload_file reload_repeat reload_time_file router_id rs_init_notifies",
            "script_user shutdown_script shutdown_script_timeout smtp_alert smtp_alert_checker smtp_alert_vrrp",
            "smtp_connect_timeout smtp_helo_name smtp_server snmp_socket startup_script startup_script_timeout",
            "tmp_config_directory umask vmac_addr_prefix vmac_prefix vrrp_check_unicast_src vrrp_cpu_affinity",
            "vrrp_down_timer_adverts vrrp_garp_extra_if vrrp_garp_interval vrrp_garp_lower_prio_delay",
            "vrrp_garp_lower_prio_repeat vrrp_garp_master_delay vrrp_garp_master_refresh vrrp_garp_master_refresh_repeat",
            "vrrp_garp_master_repeat vrrp_gna_interval vrrp_higher_prio_send_advert vrrp_ipsets vrrp_iptables",
            "vrrp_lower_prio_no_advert vrrp_mcast_group4 vrrp_mcast_group6 vrrp_min_garp vrrp_netlink_cmd_rcv_bufs",
            "vrrp_netlink_cmd_rcv_bufs_force vrrp_netlink_monitor_rcv_bufs vrrp_netlink_monitor_rcv_bufs_force vrrp_no_swap",
            "vrrp_notify_fifo vrrp_notify_fifo_script vrrp_notify_priority_changes vrrp_priority vrrp_process_name",
            "vrrp_rlimit_rtime vrrp_rlimit_rttime vrrp_rt_priority vrrp_rx_bufs_multiplier vrrp_rx_bufs_policy",
            "vrrp_skip_check_adv_addr vrrp_startup_delay vrrp_strict vrrp_version vrrp_vmac_garp_intvl"),
        ["vrrp_script"] = Words(
            "fall init_fail interval rise script timeout user weight"),
        ["vrrp_instance"] = Words(
            "accept advert_int authentication check_unicast_src debug dont_track_primary down_timer_adverts garp_extra_if",
            "garp_lower_prio_delay garp_lower_prio_repeat garp_master_delay garp_master_refresh garp_master_refresh_repeat",
            "garp_master_repeat higher_prio_send_advert interface kernel_rx_buf_size linkbeat_use_polling",
            "lower_prio_no_advert lvs_sync_daemon_interface mcast_dst_ip mcast_src_ip native_ipv6 no_accept nopreempt",
            "notify notify_backup notify_deleted notify_fault notify_master notify_master_rx_lower_pri",
            "notify_priority_changes notify_stop old_unicast_checksum preempt preempt_delay priority promote_secondaries",
            "skip_check_adv_addr smtp_alert state strict_mode track_bfd track_file track_interface track_process",
            "track_script track_src_ip unicast_fault_no_peer unicast_peer unicast_src_ip unicast_ttl use_ipvlan use_vmac",
            "use_vmac_addr version virtual_ipaddress virtual_ipaddress_excluded virtual_router_id virtual_routes",
            "virtual_rules vmac_garp_intvl vmac_xmit_base vrf"),
        ["authentication"] = Words(
            "auth_pass auth_type"),
        ["vrrp_sync_group"] = Words(
            "global_tracking group notify notify_backup notify_fault notify_master notify_priority_changes notify_stop",
            "smtp_alert sync_group_tracking_weight track_bfd track_file track_interface track_process track_script"),
        ["track_group"] = Words(
            "group"),
        ["garp_group"] = Words(
            "garp_interval gna_interval interface interfaces"),
        ["vrrp_track_process"] = Words(
            "delay fork_delay full_command param_match process quorum quorum_max terminate_delay weight"),
        ["track_file"] = Words(
            "file init_file weight"),
        ["vrrp_track_file"] = Words(
            "file init_file weight"),
        ["bfd_instance"] = Words(
            "checker hoplimit idle_tx max_hops min_rx min_tx multiplier neighbor_ip neighbour_ip passive source_ip ttl vrrp",
            "weight"),
        ["SSL"] = Words(
            "ca certificate key password"),
        ["virtual_server"] = Words(
            "alpha connect_timeout delay_before_retry delay_loop flag-1 flag-2 flag-3 ha_suspend hashed hysteresis",
            "inhibit_on_failure ip_family lb_algo lb_kind lvs_method lvs_sched mh-fallback mh-port omega ops",
            "persistence_engine persistence_granularity persistence_timeout protocol quorum quorum_down quorum_up",
            "real_server retry sh-fallback sh-port smtp_alert snmp_name sorry_server sorry_server_inhibit",
            "sorry_server_lvs_method virtualhost warmup weight"),
        ["real_server"] = Words(
            "BFD_CHECK DNS_CHECK FILE_CHECK HTTP_GET MISC_CHECK PING_CHECK SMTP_CHECK SSL_GET TCP_CHECK UDP_CHECK alpha",
            "connect_timeout delay_before_retry delay_loop inhibit_on_failure lthreshold lvs_method notify_down notify_up",
            "retry smtp_alert snmp_name uthreshold virtualhost warmup weight"),
        ["TCP_CHECK"] = Words(
            "alpha bind_if bind_port bindto connect_ip connect_port connect_timeout delay_before_retry delay_loop fwmark",
            "log_all_failures retry warmup"),
        ["HTTP_GET"] = Words(
            "alpha bind_if bind_port bindto connect_ip connect_port connect_timeout delay_before_retry delay_loop",
            "enable_sni fast_recovery fwmark http_protocol log_all_failures nb_get_retry retry url virtualhost warmup"),
        ["SSL_GET"] = Words(
            "alpha bind_if bind_port bindto connect_ip connect_port connect_timeout delay_before_retry delay_loop",
            "enable_sni fast_recovery fwmark http_protocol log_all_failures nb_get_retry retry url virtualhost warmup"),
        ["url"] = Words(
            "digest path regex regex_max_offset regex_min_offset regex_no_match regex_options regex_stack status_code",
            "virtualhost"),
        ["MISC_CHECK"] = Words(
            "alpha delay_before_retry delay_loop log_all_failures misc_dynamic misc_path misc_timeout retry user warmup"),
        ["SMTP_CHECK"] = Words(
            "alpha bind_if bind_port bindto connect_ip connect_port connect_timeout delay_before_retry delay_loop fwmark",
            "helo_name host log_all_failures retry warmup"),
        ["host"] = Words(
            "alpha bind_if bind_port bindto connect_ip connect_port connect_timeout delay_before_retry delay_loop fwmark",
            "log_all_failures retry warmup"),
        ["DNS_CHECK"] = Words(
            "alpha bind_if bind_port bindto connect_ip connect_port connect_timeout delay_before_retry delay_loop fwmark",
            "log_all_failures name retry type warmup"),
        ["UDP_CHECK"] = Words(
            "alpha bind_if bind_port bindto connect_ip connect_port connect_timeout delay_before_retry delay_loop fwmark",
            "log_all_failures max_reply_length min_reply_length payload require_reply retry warmup"),
        ["PING_CHECK"] = Words(
            "alpha bind_if bind_port bindto connect_ip connect_port connect_timeout delay_before_retry delay_loop fwmark",
            "log_all_failures retry warmup"),
        ["FILE_CHECK"] = Words(
            "track_file weight"),
        ["BFD_CHECK"] = Words(
            "alpha name"),
    };

    // The order a reader meets the blocks in, for messages that list several.
    private static readonly string[] BlockOrder = [.. Table.Keys];

    /// <summary>Block name (as VipProxy's tables name them: "the top level", "vrrp_instance", "url", …) → its keywords.</summary>
    public static readonly FrozenDictionary<string, FrozenSet<string>> ByBlock = Table.ToFrozenDictionary(StringComparer.Ordinal);

    /// <summary>
    /// Flags whose handler in keepalived 2.2.7 reads an optional yes/no (check_true_false: true|on|yes,
    /// false|off|no, lower case only), as "block/keyword". Every other flag ignores what follows it and is
    /// switched on even by "no".
    /// </summary>
    public static readonly FrozenSet<string> FlagsWithBoolean = Words(
        "virtual_server/smtp_alert real_server/inhibit_on_failure real_server/alpha real_server/smtp_alert",
        "TCP_CHECK/alpha HTTP_GET/alpha SSL_GET/alpha MISC_CHECK/alpha SMTP_CHECK/alpha DNS_CHECK/alpha UDP_CHECK/alpha",
        "PING_CHECK/alpha host/alpha BFD_CHECK/alpha TCP_CHECK/log_all_failures HTTP_GET/log_all_failures",
        "SSL_GET/log_all_failures MISC_CHECK/log_all_failures SMTP_CHECK/log_all_failures DNS_CHECK/log_all_failures",
        "UDP_CHECK/log_all_failures PING_CHECK/log_all_failures host/log_all_failures HTTP_GET/enable_sni",
        "SSL_GET/enable_sni HTTP_GET/fast_recovery SSL_GET/fast_recovery",
        "global_defs/smtp_alert global_defs/smtp_alert_vrrp global_defs/smtp_alert_checker global_defs/checker_log_all_failures",
        "global_defs/vrrp_min_garp global_defs/vrrp_lower_prio_no_advert global_defs/vrrp_higher_prio_send_advert",
        "global_defs/vrrp_notify_priority_changes global_defs/vrrp_netlink_monitor_rcv_bufs_force",
        "global_defs/vrrp_netlink_cmd_rcv_bufs_force global_defs/process_monitor_rcv_bufs_force",
        "global_defs/lvs_netlink_monitor_rcv_bufs_force global_defs/lvs_netlink_cmd_rcv_bufs_force",
        "global_defs/rs_init_notifies global_defs/no_checker_emails global_defs/data_use_instance",
        "vrrp_sync_group/smtp_alert vrrp_sync_group/notify_priority_changes vrrp_instance/skip_check_adv_addr",
        "vrrp_instance/strict_mode vrrp_instance/smtp_alert vrrp_instance/notify_priority_changes",
        "vrrp_instance/lower_prio_no_advert vrrp_instance/higher_prio_send_advert");

    /// <summary>Whether keepalived 2.2.7 accepts <paramref name="keyword"/> in <paramref name="block"/>.</summary>
    /// <remarks>VipProxy's own MYSQL_CHECK is read against keepalived's TCP_CHECK, the checker it extends.</remarks>
    public static bool Has(string block, string keyword) =>
        ByBlock.TryGetValue(block == "MYSQL_CHECK" ? "TCP_CHECK" : block, out FrozenSet<string>? words) && words.Contains(keyword);

    /// <summary>The keepalived blocks that accept <paramref name="keyword"/>, in table order.</summary>
    public static IEnumerable<string> BlocksOf(string keyword) => BlockOrder.Where(block => ByBlock[block].Contains(keyword));

    /// <summary>Whether keepalived 2.2.7 knows <paramref name="keyword"/> in any block.</summary>
    public static bool IsKeyword(string keyword) => ByBlock.Values.Any(words => words.Contains(keyword));

    private static FrozenSet<string> Words(params string[] lines) =>
        lines.SelectMany(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries)).ToFrozenSet(StringComparer.Ordinal);
}
