namespace VipProxy.Vrrp.Protocol;

/// <summary>
/// keepalived's words for the states, in one place: what status and logs show ("MASTER", "BACKUP", "FAULT",
/// "INIT") and the third argument of a <c>notify</c> script ("MASTER", "BACKUP", "FAULT", "STOP").
/// </summary>
internal static class StateWords
{
    private const string Master = "MASTER";
    private const string Backup = "BACKUP";
    private const string Fault = "FAULT";

    /// <summary>The word for an instance's state (status, logs).</summary>
    public static string Of(VrrpState state) => state switch
    {
        VrrpState.Master => Master,
        VrrpState.Backup => Backup,
        VrrpState.Fault => Fault,
        _ => "INIT",
    };

    /// <summary>The word a notify script is given for a transition.</summary>
    public static string Of(NotifyState state) => state switch
    {
        NotifyState.Master => Master,
        NotifyState.Backup => Backup,
        NotifyState.Fault => Fault,
        _ => "STOP",
    };
}
