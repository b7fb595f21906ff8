using VipProxy.Config.Model;

namespace VipProxy.HealthChecks.Scripts;

/// <summary>The <c>global_defs</c> that govern every script.</summary>
/// <param name="DefaultUser"><c>script_user</c>: the account of scripts with no <c>user</c> of their own; null means
/// keepalived's default, <c>keepalived_script</c> if it exists, else root.</param>
/// <param name="EnableScriptSecurity"><c>enable_script_security</c>: refuse root scripts that others could modify.</param>
public sealed record ScriptSettings(ScriptAccount? DefaultUser, bool EnableScriptSecurity)
{
    /// <summary>keepalived's defaults.</summary>
    public static ScriptSettings Default { get; } = new(null, false);

    /// <summary>Takes the settings from the configuration.</summary>
    public static ScriptSettings From(GlobalDefinitions globals)
    {
        ArgumentNullException.ThrowIfNull(globals);
        return new ScriptSettings(globals.ScriptUser, globals.EnableScriptSecurity);
    }
}
