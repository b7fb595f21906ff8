namespace VipProxy.Vrrp.Protocol;

/// <summary>The timers one instance arms. At most one deadline per kind is armed at a time.</summary>
public enum VrrpTimer
{
    /// <summary>Backup: fires when no acceptable advert arrived for Master_Down_Interval (RFC 5798 §6.2 Master_Down_Timer).</summary>
    MasterDown,

    /// <summary>Master: fires every Advertisement_Interval to send the next advert (RFC 5798 §6.2 Adver_Timer).</summary>
    Advertisement,

    /// <summary>Master: the second gratuitous ARP burst, <c>garp_master_delay</c> after becoming master (keepalived).</summary>
    GarpDelay,

    /// <summary>Master: periodic gratuitous ARP refresh every <c>garp_master_refresh</c> (keepalived).</summary>
    GarpRefresh,

    /// <summary>
    /// Master: the second gratuitous ARP burst, <c>garp_lower_prio_delay</c> after hearing a lower-priority advert
    /// (keepalived's <c>vrrp_lower_prio_gratuitous_arp_thread</c>).
    /// </summary>
    GarpLowerPriorityDelay,
}
