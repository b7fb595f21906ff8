using System.Security.Cryptography;
using System.Text;

namespace VipProxy.HealthChecks.Probes.MySql;

/// <summary>
/// The authentication phase after the greeting: send HandshakeResponse41, then follow the server until OK or ERR,
/// through AuthSwitchRequest (to mysql_native_password or caching_sha2_password) and caching_sha2_password's
/// AuthMoreData: 0x03 fast authentication succeeded (an OK follows); 0x04 full authentication needed, done without
/// TLS by requesting the server's RSA public key (0x02) and sending the encrypted password.
/// </summary>
internal static class MySqlLogin
{
    private const byte FastAuthSuccess = 0x03;
    private const byte PerformFullAuthentication = 0x04;
    private const byte RequestPublicKey = 0x02;

    // Greeting → response → at most a switch, a full-auth request, a key and the final OK: a handful of rounds.
    private const int MaxRounds = 6;

    /// <summary>Logs in; returns null when the server said OK, or the down result that explains the refusal.</summary>
    public static async Task<ProbeResult?> RunAsync(
        MySqlPacketChannel channel, MySqlGreeting greeting, MySqlCredentials credentials, CancellationToken cancellationToken)
    {
        string plugin = greeting.AuthPluginName is { } offered && MySqlAuthentication.IsSupported(offered)
            ? offered
            : MySqlAuthentication.NativePassword; // the server switches us to its plugin if it wants another
        byte[] scramble = greeting.Scramble;
        MySqlCapabilities capabilities = MySqlHandshakeResponse.Negotiate(greeting.Capabilities, credentials.Database is not null);
        byte[] response = MySqlHandshakeResponse.Build(capabilities, credentials.User,
            MySqlAuthentication.Respond(plugin, credentials.Password, scramble), credentials.Database, plugin);
        await channel.WriteAsync(response, cancellationToken).ConfigureAwait(false);

        for (int round = 0; round < MaxRounds; round++)
        {
            MySqlPacket packet = await channel.ReadAsync(cancellationToken).ConfigureAwait(false);
            if (packet.IsOk)
            {
                return null;
            }

            if (packet.IsError)
            {
                return MySqlErrorPacket.Parse(packet.Payload).ToProbeResult($"login as '{credentials.User}' refused");
            }

            if (packet.IsAuthSwitch)
            {
                (plugin, scramble) = ParseAuthSwitch(packet.Payload);
                if (!MySqlAuthentication.IsSupported(plugin))
                {
                    return ProbeResult.Down(
                        $"the server asks for auth plugin '{plugin}'; MYSQL_CHECK supports {MySqlAuthentication.NativePassword} and {MySqlAuthentication.CachingSha2Password}");
                }

                await channel.WriteAsync(MySqlAuthentication.Respond(plugin, credentials.Password, scramble), cancellationToken)
                    .ConfigureAwait(false);
                continue;
            }

            if (packet.IsAuthMoreData && plugin == MySqlAuthentication.CachingSha2Password && packet.Payload.Length == 2)
            {
                if (packet.Payload[1] == FastAuthSuccess)
                {
                    continue;
                }

                if (packet.Payload[1] == PerformFullAuthentication)
                {
                    ProbeResult? refused = await FullAuthenticationAsync(channel, credentials, scramble, cancellationToken)
                        .ConfigureAwait(false);
                    if (refused is not null)
                    {
                        return refused;
                    }

                    continue;
                }
            }

            throw new InvalidDataException($"unexpected packet 0x{packet.Header:x2} during authentication with {plugin}");
        }

        throw new InvalidDataException($"authentication did not finish after {MaxRounds} exchanges");
    }

    private static async Task<ProbeResult?> FullAuthenticationAsync(
        MySqlPacketChannel channel, MySqlCredentials credentials, byte[] scramble, CancellationToken cancellationToken)
    {
        await channel.WriteAsync(new[] { RequestPublicKey }, cancellationToken).ConfigureAwait(false);
        MySqlPacket key = await channel.ReadAsync(cancellationToken).ConfigureAwait(false);
        if (key.IsError)
        {
            return MySqlErrorPacket.Parse(key.Payload).ToProbeResult($"public key request as '{credentials.User}' refused");
        }

        if (!key.IsAuthMoreData)
        {
            throw new InvalidDataException($"unexpected packet 0x{key.Header:x2} instead of the server's public key");
        }

        string pem = Encoding.ASCII.GetString(key.Payload, 1, key.Payload.Length - 1);
        byte[] encrypted;
        try
        {
            encrypted = MySqlAuthentication.EncryptPassword(credentials.Password, scramble, pem);
        }
        catch (Exception e) when (e is CryptographicException or ArgumentException)
        {
            throw new InvalidDataException($"unusable RSA public key from the server: {e.Message}", e);
        }

        await channel.WriteAsync(encrypted, cancellationToken).ConfigureAwait(false);
        return null;
    }

    /// <summary>AuthSwitchRequest: 0xFE, the plugin name (NUL-terminated), the plugin's data (a new scramble,
    /// usually NUL-terminated too).</summary>
    internal static (string Plugin, byte[] Scramble) ParseAuthSwitch(byte[] payload)
    {
        ReadOnlySpan<byte> rest = payload.AsSpan(1);
        int end = rest.IndexOf((byte)0);
        if (end < 0)
        {
            throw new InvalidDataException("malformed auth switch request");
        }

        string plugin = Encoding.ASCII.GetString(rest[..end]);
        ReadOnlySpan<byte> data = rest[(end + 1)..];
        if (data.Length > MySqlAuthentication.ScrambleLength && data[^1] == 0)
        {
            data = data[..^1];
        }

        return (plugin, data.ToArray());
    }
}
