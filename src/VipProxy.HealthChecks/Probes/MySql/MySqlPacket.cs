namespace VipProxy.HealthChecks.Probes.MySql;

/// <summary>One packet of the MySQL protocol: the sequence id and the payload.</summary>
internal readonly record struct MySqlPacket(byte Sequence, byte[] Payload)
{
    /// <summary>An OK packet (0x00); during authentication it means logged in.</summary>
    public bool IsOk => Payload.Length > 0 && Payload[0] == 0x00;

    /// <summary>An ERR packet (0xFF).</summary>
    public bool IsError => Payload.Length > 0 && Payload[0] == 0xFF;

    /// <summary>During authentication: an AuthSwitchRequest (0xFE).</summary>
    public bool IsAuthSwitch => Payload.Length > 0 && Payload[0] == 0xFE;

    /// <summary>During authentication: AuthMoreData (0x01), e.g. caching_sha2_password's fast-auth result.</summary>
    public bool IsAuthMoreData => Payload.Length > 0 && Payload[0] == 0x01;

    public byte Header => Payload.Length > 0 ? Payload[0] : throw new InvalidDataException("empty packet");
}
