namespace VipProxy.Vrrp.Protocol;

/// <summary>The state word keepalived passes to <c>notify</c> scripts (its third argument) and which notify_* script runs.</summary>
public enum NotifyState
{
    /// <summary><c>notify_master</c> / "MASTER".</summary>
    Master,

    /// <summary><c>notify_backup</c> / "BACKUP".</summary>
    Backup,

    /// <summary><c>notify_fault</c> / "FAULT".</summary>
    Fault,

    /// <summary><c>notify_stop</c> / "STOP": the instance shut down.</summary>
    Stop,
}
