using VipProxy.Config.Model;

namespace VipProxy.HealthChecks.Scripts;

/// <summary>A script account with its numeric ids.</summary>
internal sealed record ResolvedAccount(string Name, uint Uid, uint Gid, string? GroupName)
{
    /// <summary>keepalived's default script user, used when neither the script nor <c>script_user</c> names one.</summary>
    public const string KeepalivedDefaultUser = "keepalived_script";

    /// <summary>keepalived's default: <c>keepalived_script</c> if that user exists, else root.</summary>
    public static ScriptAccount DefaultAccount() =>
        NativeMethods.TryGetUser(KeepalivedDefaultUser, out _, out _)
            ? new ScriptAccount(KeepalivedDefaultUser, null)
            : new ScriptAccount("root", null);

    /// <summary>Looks up the user (and group, when given; else the user's primary group).</summary>
    public static ResolvedAccount? Resolve(ScriptAccount account, out string error)
    {
        if (!NativeMethods.TryGetUser(account.User, out uint uid, out uint gid))
        {
            error = $"script user '{account.User}' does not exist";
            return null;
        }

        if (account.Group is not null && !NativeMethods.TryGetGroup(account.Group, out gid))
        {
            error = $"script group '{account.Group}' does not exist";
            return null;
        }

        error = string.Empty;
        return new ResolvedAccount(account.User, uid, gid, account.Group);
    }

    /// <summary>True when the process already runs as this account, so no switch is needed.</summary>
    public bool IsCurrentProcessAccount =>
        Uid == NativeMethods.EffectiveUserId() && Gid == NativeMethods.EffectiveGroupId();

    public override string ToString() => $"{Name} ({Uid}:{Gid})";
}
