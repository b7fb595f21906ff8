using VipProxy.HealthChecks.Probes.MySql;

namespace VipProxy.HealthChecks.Tests.MySql;

public sealed class MySqlPacketTests
{
    private static readonly byte[] Scramble = [.. Enumerable.Range(0x41, 20).Select(i => (byte)i)];

    [Fact]
    public void Greeting_is_parsed_with_both_scramble_parts_and_the_plugin()
    {
        byte[] payload = FakeMySqlServer.Greeting(Scramble, "caching_sha2_password");

        MySqlGreeting greeting = MySqlGreeting.Parse(payload);

        Assert.Equal("8.0.36", greeting.ServerVersion);
        Assert.Equal(42u, greeting.ConnectionId);
        Assert.Equal(Scramble, greeting.Scramble);
        Assert.Equal("caching_sha2_password", greeting.AuthPluginName);
        Assert.True(greeting.Capabilities.HasFlag(MySqlCapabilities.Protocol41));
        Assert.True(greeting.Capabilities.HasFlag(MySqlCapabilities.PluginAuth));
    }

    [Fact]
    public void Greeting_with_another_protocol_is_rejected() =>
        Assert.Throws<InvalidDataException>(() => MySqlGreeting.Parse([9, (byte)'x', 0]));

    [Fact]
    public void Truncated_greeting_is_rejected() =>
        Assert.Throws<InvalidDataException>(() => MySqlGreeting.Parse(FakeMySqlServer.Greeting(Scramble, "x")[..12]));

    [Fact]
    public void Handshake_response_is_byte_exact()
    {
        MySqlCapabilities capabilities = MySqlHandshakeResponse.Negotiate((MySqlCapabilities)0xFFFF_FFFF, withDatabase: true);
        byte[] response = MySqlHandshakeResponse.Build(capabilities, "chk", [0xAA, 0xBB], "app", "mysql_native_password");

        byte[] expected =
        [
            0x09, 0xA2, 0x08, 0x00,        // LONG_PASSWORD|CONNECT_WITH_DB|PROTOCOL_41|TRANSACTIONS|SECURE_CONNECTION|PLUGIN_AUTH
            0x00, 0x00, 0x00, 0x01,        // max packet 16 MiB
            45,                            // utf8mb4_general_ci
            .. new byte[23],               // filler
            (byte)'c', (byte)'h', (byte)'k', 0,
            2, 0xAA, 0xBB,                 // length-prefixed auth response
            (byte)'a', (byte)'p', (byte)'p', 0,
            .. "mysql_native_password"u8.ToArray(), 0,
        ];
        Assert.Equal(expected, response);
    }

    [Fact]
    public void Capabilities_the_server_lacks_are_not_claimed()
    {
        var server = MySqlCapabilities.Protocol41 | MySqlCapabilities.SecureConnection;

        Assert.Equal(server, MySqlHandshakeResponse.Negotiate(server, withDatabase: true));
    }

    [Theory]
    [InlineData(new byte[] { 0xFF, 0x15, 0x04, (byte)'#', (byte)'2', (byte)'8', (byte)'0', (byte)'0', (byte)'0', (byte)'n', (byte)'o' }, 1045, "28000", "no")]
    [InlineData(new byte[] { 0xFF, 0x69, 0x04, (byte)'H', (byte)'o', (byte)'s', (byte)'t' }, 1129, null, "Host")]
    public void Error_packets_with_and_without_sql_state(byte[] payload, int code, string? state, string message)
    {
        MySqlErrorPacket error = MySqlErrorPacket.Parse(payload);

        Assert.Equal((code, state, message), (error.Code, error.SqlState, error.Message));
    }

    [Fact]
    public void Auth_switch_request_yields_plugin_and_scramble_without_the_nul()
    {
        (string plugin, byte[] scramble) = MySqlLogin.ParseAuthSwitch([0xFE, .. "caching_sha2_password"u8.ToArray(), 0, .. Scramble, 0]);

        Assert.Equal("caching_sha2_password", plugin);
        Assert.Equal(Scramble, scramble);
    }
}
