using System.Buffers.Binary;
using System.Text;

namespace VipProxy.HealthChecks.Probes.MySql;

/// <summary>
/// HandshakeResponse41, the client's answer to the greeting: capabilities, max packet size, character set, 23 zero
/// bytes, the user name, the length-prefixed auth response, the database (with CONNECT_WITH_DB) and the plugin
/// name the response was computed for (with PLUGIN_AUTH).
/// </summary>
internal static class MySqlHandshakeResponse
{
    /// <summary>utf8mb4_general_ci: known to every supported MySQL (5.5.3+) and MariaDB.</summary>
    public const byte Utf8Mb4GeneralCi = 45;

    private const uint MaxPacketSize = 16 * 1024 * 1024;

    /// <summary>What the probe asks for, before intersecting with the server's capabilities. No SSL: the probe
    /// never upgrades, so caching_sha2_password's full authentication goes through the RSA key exchange.</summary>
    public const MySqlCapabilities Wanted =
        MySqlCapabilities.LongPassword | MySqlCapabilities.Protocol41 | MySqlCapabilities.Transactions
        | MySqlCapabilities.SecureConnection | MySqlCapabilities.PluginAuth;

    /// <summary>The capabilities to send: ours, limited to the server's, plus CONNECT_WITH_DB when a database is set.</summary>
    public static MySqlCapabilities Negotiate(MySqlCapabilities server, bool withDatabase) =>
        (Wanted | (withDatabase ? MySqlCapabilities.ConnectWithDb : MySqlCapabilities.None)) & server;

    public static byte[] Build(
        MySqlCapabilities capabilities, string user, ReadOnlySpan<byte> authResponse, string? database, string plugin)
    {
        if (authResponse.Length > 250)
        {
            throw new ArgumentException("auth response longer than a 1-byte length allows", nameof(authResponse));
        }

        var buffer = new List<byte>(64 + user.Length + authResponse.Length);
        Span<byte> fixedPart = stackalloc byte[32];
        BinaryPrimitives.WriteUInt32LittleEndian(fixedPart, (uint)capabilities);
        BinaryPrimitives.WriteUInt32LittleEndian(fixedPart[4..], MaxPacketSize);
        fixedPart[8] = Utf8Mb4GeneralCi;
        buffer.AddRange(fixedPart); // the last 23 bytes are the zero filler
        AddNulTerminated(buffer, user);
        buffer.Add((byte)authResponse.Length);
        buffer.AddRange(authResponse);
        if (capabilities.HasFlag(MySqlCapabilities.ConnectWithDb) && database is not null)
        {
            AddNulTerminated(buffer, database);
        }

        if (capabilities.HasFlag(MySqlCapabilities.PluginAuth))
        {
            AddNulTerminated(buffer, plugin);
        }

        return [.. buffer];
    }

    private static void AddNulTerminated(List<byte> buffer, string text)
    {
        buffer.AddRange(Encoding.UTF8.GetBytes(text));
        buffer.Add(0);
    }
}
