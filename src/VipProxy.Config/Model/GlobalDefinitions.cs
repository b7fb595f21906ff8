namespace VipProxy.Config.Model;

/// <summary><c>global_defs { … }</c>.</summary>
/// <param name="RouterId"><c>router_id NAME</c>: names this host in logs and notifications. Default: the host name.</param>
/// <param name="ScriptUser"><c>script_user USER [GROUP]</c>: account for scripts with no <c>user</c> of their own. Default: keepalived_script if it exists, else root.</param>
/// <param name="EnableScriptSecurity"><c>enable_script_security</c>: refuse scripts that a non-root user could modify. Default: off.</param>
/// <param name="VrrpVersion"><c>vrrp_version 2|3</c>: protocol version for instances without <c>version</c>. Default: 2.</param>
/// <param name="Garp">The <c>vrrp_garp_*</c> defaults for every instance.</param>
/// <param name="SkipCheckAdvertAddresses"><c>vrrp_skip_check_adv_addr</c>: do not compare the VIP list of adverts. Default: off.</param>
/// <param name="MulticastGroup"><c>vrrp_mcast_group4 ADDR</c>: multicast group for adverts. Default: 224.0.0.18 (RFC 5798 §5.1.1.2).</param>
/// <param name="MetricsListen">
/// VipProxy <c>metrics_listen [ADDR] PORT</c>: serve Prometheus text metrics at http://ADDR:PORT/metrics. The address
/// defaults to 127.0.0.1. Default: off — nothing listens on a network address unless configured.
/// </param>
public sealed record GlobalDefinitions(
    string? RouterId,
    ScriptAccount? ScriptUser,
    bool EnableScriptSecurity,
    int VrrpVersion,
    GarpSettings Garp,
    bool SkipCheckAdvertAddresses,
    System.Net.IPAddress MulticastGroup,
    System.Net.IPEndPoint? MetricsListen)
{
    /// <summary>VipProxy <c>forwarder_threads N</c>: the forwarder's event loops (1–1024), each one thread with its own
    /// epoll and its own listening socket per virtual server. Null (the default): one per CPU this process may run on.
    /// Read at start; a reload that changes it is reported and applies at the next restart.</summary>
    public int? ForwarderThreads { get; init; }

    /// <summary>VipProxy <c>log_connections on|off</c>: one log line per finished proxied connection (client, real
    /// server, bytes each way, duration, close reason and side). Default: on.</summary>
    public bool LogConnections { get; init; } = true;

    /// <summary>The default of <see cref="StateFile"/>.</summary>
    public const string DefaultStateFile = "/var/lib/vipproxy/state.json";

    /// <summary>VipProxy <c>state_file PATH</c>: where the operator's runtime state (drained, disabled and re-weighted
    /// real servers, demoted VRRP instances) is kept, written atomically, so it survives a reload and a restart.
    /// Default: /var/lib/vipproxy/state.json.</summary>
    public string StateFile { get; init; } = DefaultStateFile;

    public static GlobalDefinitions Default { get; } = new(
        RouterId: null,
        ScriptUser: null,
        EnableScriptSecurity: false,
        VrrpVersion: 2,
        Garp: GarpSettings.Default,
        SkipCheckAdvertAddresses: false,
        MulticastGroup: System.Net.IPAddress.Parse("224.0.0.18"),
        MetricsListen: null);
}

/// <summary>Gratuitous ARP behaviour after becoming master.</summary>
/// <param name="MasterDelay"><c>garp_master_delay SECS</c>: delay before the second burst. Default 5 s; 0 disables the second burst.</param>
/// <param name="MasterRepeat"><c>garp_master_repeat N</c>: ARPs per burst. Default 5.</param>
/// <param name="MasterRefresh"><c>garp_master_refresh SECS</c>: periodic re-announcement while master. Default 0 (off).</param>
/// <param name="MasterRefreshRepeat"><c>garp_master_refresh_repeat N</c>: ARPs per refresh. Default 1.</param>
/// <param name="Interval"><c>vrrp_garp_interval SECS</c> / <c>garp_interval</c>: gap between ARPs of one burst. Default 0.</param>
/// <param name="LowerPriorityDelay"><c>garp_lower_prio_delay SECS</c>: after a master hears a lower priority (a healed
/// split brain) and re-announces its VIPs, delay of the second burst. Null: <paramref name="MasterDelay"/>, as keepalived.</param>
/// <param name="LowerPriorityRepeat"><c>garp_lower_prio_repeat N</c>: ARPs per such burst; 0 turns the re-announcement
/// off. Null: <paramref name="MasterRepeat"/>, as keepalived.</param>
public sealed record GarpSettings(
    TimeSpan MasterDelay,
    int MasterRepeat,
    TimeSpan MasterRefresh,
    int MasterRefreshRepeat,
    TimeSpan Interval,
    TimeSpan? LowerPriorityDelay = null,
    int? LowerPriorityRepeat = null)
{
    public static GarpSettings Default { get; } = new(TimeSpan.FromSeconds(5), 5, TimeSpan.Zero, 1, TimeSpan.Zero);
}
