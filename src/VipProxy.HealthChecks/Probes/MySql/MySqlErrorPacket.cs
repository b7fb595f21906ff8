using System.Buffers.Binary;
using System.Text;

namespace VipProxy.HealthChecks.Probes.MySql;

/// <summary>An ERR packet: <c>0xFF</c>, a 2-byte error code, with protocol 4.1 a <c>#</c> and a 5-character SQL
/// state, then the message. An ERR sent instead of the greeting (e.g. 1129 host blocked, 1040 too many
/// connections) has no SQL state.</summary>
internal sealed record MySqlErrorPacket(int Code, string? SqlState, string Message)
{
    public static MySqlErrorPacket Parse(ReadOnlySpan<byte> payload)
    {
        if (payload.Length < 3 || payload[0] != 0xFF)
        {
            throw new InvalidDataException("malformed error packet");
        }

        int code = BinaryPrimitives.ReadUInt16LittleEndian(payload[1..]);
        ReadOnlySpan<byte> rest = payload[3..];
        string? sqlState = null;
        if (rest.Length >= 6 && rest[0] == (byte)'#')
        {
            sqlState = Encoding.ASCII.GetString(rest[1..6]);
            rest = rest[6..];
        }

        return new MySqlErrorPacket(code, sqlState, Encoding.UTF8.GetString(rest));
    }

    public ProbeResult ToProbeResult(string context) => ProbeResult.Down($"{context}: error {Code}: {Message}", Code);
}
