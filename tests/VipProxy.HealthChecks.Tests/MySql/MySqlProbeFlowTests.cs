using System.Security.Cryptography;
using System.Text;
using VipProxy.Config.Model;
using VipProxy.HealthChecks.Probes;
using VipProxy.HealthChecks.Probes.MySql;
using VipProxy.HealthChecks.Tests.Support;
using static VipProxy.HealthChecks.Tests.MySql.FakeMySqlServer;

namespace VipProxy.HealthChecks.Tests.MySql;

/// <summary>The probe against a scripted MySQL 8: caching_sha2_password fast and full authentication, auth switch,
/// errors; each conversation asserts the exact bytes the probe sends.</summary>
public sealed class MySqlProbeFlowTests
{
    private const string Password = "s3cret-Pw";
    private static readonly byte[] Scramble = [.. Enumerable.Range(1, 20).Select(i => (byte)i)];

    private static MySqlProbe Probe(FakeMySqlServer server, string? user = "chk", string? database = null) =>
        new(Settings.Target(server.EndPoint, timeoutSeconds: 5), new MySqlCheck(Settings.Check(), user, Password, database));

    private static byte[] AuthResponseOf(byte[] handshakeResponse)
    {
        int userEnd = Array.IndexOf(handshakeResponse, (byte)0, 32);
        int length = handshakeResponse[userEnd + 1];
        return handshakeResponse[(userEnd + 2)..(userEnd + 2 + length)];
    }

    private static void AssertPacket(byte sequence, byte[] payload, (byte Sequence, byte[] Payload) actual)
    {
        Assert.Equal(sequence, actual.Sequence);
        Assert.Equal(payload, actual.Payload);
    }

    private static async Task ExpectPingAndQuitAsync(Connection client)
    {
        var ping = await client.ReadAsync();
        AssertPacket(0, [0x0e], ping);
        await client.SendAsync(1, Ok());
        var quit = await client.ReadAsync();
        AssertPacket(0, [0x01], quit);
        client.Close();
    }

    [Fact]
    public async Task Caching_sha2_fast_path_logs_in_pings_and_quits()
    {
        await using var server = new FakeMySqlServer(async client =>
        {
            await client.SendAsync(0, Greeting(Scramble, "caching_sha2_password"));
            var response = await client.ReadAsync();
            Assert.Equal(1, response.Sequence);
            Assert.Equal(MySqlAuthentication.CachingSha2Proof(Password, Scramble), AuthResponseOf(response.Payload));
            Assert.EndsWith("caching_sha2_password\0", Encoding.ASCII.GetString(response.Payload), StringComparison.Ordinal);
            await client.SendAsync(2, [0x01, 0x03]); // fast auth success
            await client.SendAsync(3, Ok());
            await ExpectPingAndQuitAsync(client);
        });

        ProbeResult result = await Probe(server).ProbeAsync(CancellationToken.None);

        await server.Conversation;
        Assert.True(result.IsUp, result.ToString());
        Assert.Contains("logged in as 'chk' to 8.0.36, ping OK", result.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Caching_sha2_full_authentication_requests_the_rsa_key_and_sends_the_encrypted_password()
    {
        using var rsa = RSA.Create(2048);
        await using var server = new FakeMySqlServer(async client =>
        {
            await client.SendAsync(0, Greeting(Scramble, "caching_sha2_password"));
            await client.ReadAsync();
            await client.SendAsync(2, [0x01, 0x04]); // perform full authentication
            var keyRequest = await client.ReadAsync();
            AssertPacket(3, [0x02], keyRequest);
            await client.SendAsync(4, [0x01, .. Encoding.ASCII.GetBytes(rsa.ExportSubjectPublicKeyInfoPem())]);
            var encrypted = await client.ReadAsync();
            Assert.Equal(5, encrypted.Sequence);
            byte[] plain = rsa.Decrypt(encrypted.Payload, RSAEncryptionPadding.OaepSHA1);
            Assert.Equal(Password + "\0", Encoding.UTF8.GetString([.. plain.Select((b, i) => (byte)(b ^ Scramble[i % 20]))]));
            await client.SendAsync(6, Ok());
            await ExpectPingAndQuitAsync(client);
        });

        ProbeResult result = await Probe(server).ProbeAsync(CancellationToken.None);

        await server.Conversation;
        Assert.True(result.IsUp, result.ToString());
    }

    [Fact]
    public async Task Auth_switch_to_caching_sha2_uses_the_new_scramble()
    {
        byte[] newScramble = [.. Enumerable.Range(100, 20).Select(i => (byte)i)];
        await using var server = new FakeMySqlServer(async client =>
        {
            await client.SendAsync(0, Greeting(Scramble, "mysql_native_password"));
            var response = await client.ReadAsync();
            Assert.Equal(MySqlAuthentication.NativePasswordProof(Password, Scramble), AuthResponseOf(response.Payload));
            await client.SendAsync(2, [0xFE, .. "caching_sha2_password"u8.ToArray(), 0, .. newScramble, 0]);
            var switched = await client.ReadAsync();
            AssertPacket(3, MySqlAuthentication.CachingSha2Proof(Password, newScramble), switched);
            await client.SendAsync(4, [0x01, 0x03]);
            await client.SendAsync(5, Ok());
            await ExpectPingAndQuitAsync(client);
        });

        ProbeResult result = await Probe(server).ProbeAsync(CancellationToken.None);

        await server.Conversation;
        Assert.True(result.IsUp, result.ToString());
    }

    [Fact]
    public async Task Auth_switch_to_an_unsupported_plugin_is_down_with_its_name()
    {
        await using var server = new FakeMySqlServer(async client =>
        {
            await client.SendAsync(0, Greeting(Scramble, "mysql_native_password", "11.4.2-MariaDB"));
            await client.ReadAsync();
            await client.SendAsync(2, [0xFE, .. "client_ed25519"u8.ToArray(), 0, .. Scramble]);
            await client.ClosedByClientAsync();
        });

        ProbeResult result = await Probe(server).ProbeAsync(CancellationToken.None);

        Assert.False(result.IsUp);
        Assert.Contains("'client_ed25519'", result.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Login_error_reports_the_server_code_and_message()
    {
        await using var server = new FakeMySqlServer(async client =>
        {
            await client.SendAsync(0, Greeting(Scramble, "caching_sha2_password"));
            await client.ReadAsync();
            await client.SendAsync(2, Error(1045, "28000", "Access denied for user 'chk'@'10.0.0.1' (using password: YES)"));
        });

        ProbeResult result = await Probe(server).ProbeAsync(CancellationToken.None);

        Assert.False(result.IsUp);
        Assert.Equal(1045, result.ErrorCode);
        Assert.Contains("Access denied for user 'chk'@'10.0.0.1'", result.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Connect_with_db_sends_the_database()
    {
        await using var server = new FakeMySqlServer(async client =>
        {
            await client.SendAsync(0, Greeting(Scramble, "mysql_native_password"));
            var response = await client.ReadAsync();
            Assert.Equal(0x08, response.Payload[0] & 0x08);
            Assert.Contains("app\0mysql_native_password\0", Encoding.ASCII.GetString(response.Payload), StringComparison.Ordinal);
            await client.SendAsync(2, Ok());
            await ExpectPingAndQuitAsync(client);
        });

        ProbeResult result = await Probe(server, database: "app").ProbeAsync(CancellationToken.None);

        await server.Conversation;
        Assert.True(result.IsUp, result.ToString());
    }

    [Fact]
    public async Task Without_user_the_greeting_alone_decides()
    {
        await using var up = new FakeMySqlServer(client => client.SendAsync(0, Greeting(Scramble, "caching_sha2_password")));
        await using var blocked = new FakeMySqlServer(client =>
            client.SendAsync(0, [0xFF, 0x69, 0x04, .. "Host '10.0.0.1' is blocked because of many connection errors"u8.ToArray()]));

        ProbeResult greeted = await Probe(up, user: null).ProbeAsync(CancellationToken.None);
        ProbeResult refused = await Probe(blocked, user: null).ProbeAsync(CancellationToken.None);

        Assert.True(greeted.IsUp, greeted.ToString());
        Assert.Contains("greeting from 8.0.36", greeted.Reason, StringComparison.Ordinal);
        Assert.False(refused.IsUp);
        Assert.Equal(1129, refused.ErrorCode);
        Assert.Contains("is blocked", refused.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Garbage_instead_of_a_greeting_is_a_protocol_error()
    {
        await using var server = new FakeMySqlServer(async client =>
        {
            await client.SendAsync(0, "SSH-2.0-OpenSSH_9.2\r\n"u8.ToArray());
            await client.ClosedByClientAsync();
        });

        ProbeResult result = await Probe(server).ProbeAsync(CancellationToken.None);

        Assert.False(result.IsUp);
        Assert.Contains("protocol error while reading the greeting", result.Reason, StringComparison.Ordinal);
    }
}
