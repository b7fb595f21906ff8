namespace VipProxy.HealthChecks.Probes.MySql;

/// <summary>The capability flags of the MySQL client/server protocol that the probe uses or inspects.</summary>
[Flags]
internal enum MySqlCapabilities : uint
{
    None = 0,
    LongPassword = 0x1,
    ConnectWithDb = 0x8,
    Protocol41 = 0x200,
    Ssl = 0x800,
    Transactions = 0x2000,
    SecureConnection = 0x8000,
    PluginAuth = 0x80000,
    DeprecateEof = 0x0100_0000,
}
