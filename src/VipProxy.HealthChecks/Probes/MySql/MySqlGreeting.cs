using System.Buffers.Binary;
using System.Text;

namespace VipProxy.HealthChecks.Probes.MySql;

/// <summary>
/// The server's first packet, HandshakeV10: protocol version 10, server version, connection id, the 20-byte
/// authentication scramble (sent in two parts), capability flags, character set, status, and the default
/// authentication plugin.
/// </summary>
internal sealed record MySqlGreeting(
    string ServerVersion,
    uint ConnectionId,
    MySqlCapabilities Capabilities,
    byte CharacterSet,
    byte[] Scramble,
    string? AuthPluginName)
{
    /// <summary>The version without the "5.5.5-" prefix that MariaDB 10+ adds for old replication clients.</summary>
    public string DisplayVersion =>
        ServerVersion.StartsWith("5.5.5-", StringComparison.Ordinal) && ServerVersion.Contains("MariaDB", StringComparison.Ordinal)
            ? ServerVersion["5.5.5-".Length..]
            : ServerVersion;

    /// <summary>Parses a greeting payload.</summary>
    /// <exception cref="InvalidDataException">Not a protocol 10 greeting.</exception>
    public static MySqlGreeting Parse(ReadOnlySpan<byte> payload)
    {
        var reader = new SpanReader(payload);
        byte protocol = reader.Byte();
        if (protocol != 10)
        {
            throw new InvalidDataException($"greeting with protocol version {protocol}, expected 10");
        }

        string version = reader.NulTerminatedString();
        uint connectionId = reader.UInt32();
        byte[] scramble1 = reader.Bytes(8).ToArray();
        reader.Byte(); // filler
        uint capabilities = reader.UInt16();
        byte characterSet = 0;
        byte[] scramble2 = [];
        string? plugin = null;
        if (!reader.AtEnd)
        {
            characterSet = reader.Byte();
            reader.UInt16(); // status flags
            capabilities |= (uint)reader.UInt16() << 16;
            int authDataLength = reader.Byte();
            reader.Bytes(10); // reserved (MariaDB keeps its extended capabilities in the last 4)
            var flags = (MySqlCapabilities)capabilities;
            if (flags.HasFlag(MySqlCapabilities.SecureConnection))
            {
                // Part 2 is max(13, length − 8) bytes, the last being a NUL that is not part of the scramble.
                int part2Length = Math.Max(13, authDataLength - 8);
                scramble2 = reader.Bytes(Math.Min(part2Length, reader.Remaining)).ToArray();
                scramble2 = scramble2.AsSpan().TrimEnd((byte)0).ToArray();
            }

            if (flags.HasFlag(MySqlCapabilities.PluginAuth) && !reader.AtEnd)
            {
                plugin = reader.NulTerminatedString();
            }
        }

        return new MySqlGreeting(version, connectionId, (MySqlCapabilities)capabilities, characterSet,
            [.. scramble1, .. scramble2], plugin);
    }

    /// <summary>A minimal forward-only reader that throws on truncation.</summary>
    private ref struct SpanReader(ReadOnlySpan<byte> data)
    {
        private readonly ReadOnlySpan<byte> _data = data;
        private int _position;

        public readonly bool AtEnd => _position >= _data.Length;

        public readonly int Remaining => _data.Length - _position;

        public byte Byte() => Bytes(1)[0];

        public ushort UInt16() => BinaryPrimitives.ReadUInt16LittleEndian(Bytes(2));

        public uint UInt32() => BinaryPrimitives.ReadUInt32LittleEndian(Bytes(4));

        public ReadOnlySpan<byte> Bytes(int count)
        {
            if (count > Remaining)
            {
                throw new InvalidDataException("truncated greeting");
            }

            ReadOnlySpan<byte> slice = _data.Slice(_position, count);
            _position += count;
            return slice;
        }

        public string NulTerminatedString()
        {
            int end = _data[_position..].IndexOf((byte)0);
            if (end < 0)
            {
                // The plugin name of some servers is not terminated: it runs to the end of the packet.
                end = Remaining;
            }

            string text = Encoding.UTF8.GetString(_data.Slice(_position, end));
            _position = Math.Min(_data.Length, _position + end + 1);
            return text;
        }
    }
}
