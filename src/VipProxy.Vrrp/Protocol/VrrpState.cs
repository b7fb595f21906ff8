namespace VipProxy.Vrrp.Protocol;

/// <summary>The states of RFC 5798 §6.4, plus keepalived's Fault.</summary>
public enum VrrpState
{
    /// <summary>RFC 5798 §6.4.1: not started, or stopped. Holds no addresses, arms no timers.</summary>
    Initialize,

    /// <summary>RFC 5798 §6.4.2: watching the master through the Master_Down_Timer.</summary>
    Backup,

    /// <summary>RFC 5798 §6.4.3: holding the virtual addresses and advertising every Advertisement_Interval.</summary>
    Master,

    /// <summary>keepalived's FAULT: a tracked interface is down or a zero-weight tracked check failed; takes no part.</summary>
    Fault,
}
