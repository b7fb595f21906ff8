namespace VipProxy.HealthChecks.Probes.MySql;

/// <summary>The account MYSQL_CHECK logs in with.</summary>
/// <param name="User">User name.</param>
/// <param name="Password">Password; empty when none is configured.</param>
/// <param name="Database">Schema selected at login, or null.</param>
internal sealed record MySqlCredentials(string User, string Password, string? Database)
{
    // The password must not appear in logs or status output.
    public override string ToString() => $"user '{User}'" + (Database is null ? string.Empty : $", database '{Database}'");
}
