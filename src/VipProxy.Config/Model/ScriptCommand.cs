namespace VipProxy.Config.Model;

/// <summary>
/// A program and its arguments, split with shell-like quoting the way keepalived splits <c>script</c>
/// and <c>notify*</c> values. It is executed directly, never through a shell, unless the program is a shell.
/// </summary>
public sealed record ScriptCommand(string Text, ValueList<string> Arguments)
{
    public string Program => Arguments[0];

    public override string ToString() => Text;
}

/// <summary>The account a script runs as (<c>user USER [GROUP]</c>).</summary>
public sealed record ScriptAccount(string User, string? Group);
