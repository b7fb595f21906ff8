using System.Buffers.Binary;
using System.Text;

namespace VipProxy.HealthChecks.Probes.MySql;

/// <summary>A text-protocol result set: column names and rows of values (null for SQL NULL).</summary>
internal sealed record MySqlResultSet(IReadOnlyList<string> Columns, IReadOnlyList<IReadOnlyList<string?>> Rows)
{
    public static readonly MySqlResultSet Empty = new([], []);

    /// <summary>The value of the first row in the column named <paramref name="column"/>; false when there is no
    /// row or no such column.</summary>
    public bool TryGetFirst(string column, out string? value)
    {
        int index = -1;
        for (int i = 0; i < Columns.Count; i++)
        {
            if (string.Equals(Columns[i], column, StringComparison.OrdinalIgnoreCase))
            {
                index = i;
                break;
            }
        }

        value = null;
        if (index < 0 || Rows.Count == 0)
        {
            return false;
        }

        value = Rows[0][index];
        return true;
    }

    /// <summary>Two-column name/value rows (SHOW VARIABLES, SHOW STATUS) as a case-insensitive map.</summary>
    public IReadOnlyDictionary<string, string?> AsNameValues()
    {
        var map = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (IReadOnlyList<string?> row in Rows)
        {
            if (row.Count >= 2 && row[0] is { } name)
            {
                map[name] = row[1];
            }
        }

        return map;
    }
}

/// <summary>What one COM_QUERY got back: a result set (empty for a statement without one) or the server's error.</summary>
internal sealed record MySqlQueryOutcome(string Statement, MySqlResultSet? Result, MySqlErrorPacket? Error)
{
    public static MySqlQueryOutcome Of(string statement, MySqlResultSet result) => new(statement, result, null);

    public static MySqlQueryOutcome Failed(string statement, MySqlErrorPacket error) => new(statement, null, error);
}

/// <summary>
/// COM_QUERY and its text-protocol reply: an OK (no result set), an ERR, or a column count, that many column
/// definitions, an EOF (unless CLIENT_DEPRECATE_EOF was negotiated), the rows, and an EOF — or with
/// CLIENT_DEPRECATE_EOF an OK packet with the 0xFE header. When the terminator's status says more results follow
/// (a CALL), they are read and dropped so the connection is left at a command boundary.
/// </summary>
internal static class MySqlQuery
{
    private const byte ComQuery = 0x03;
    private const byte LocalInfile = 0xFB;
    private const byte EofHeader = 0xFE;
    private const ushort MoreResultsExists = 0x0008;

    public static async Task<MySqlQueryOutcome> RunAsync(
        MySqlPacketChannel channel, string statement, MySqlCapabilities negotiated, CancellationToken cancellationToken)
    {
        await channel.WriteCommandAsync(ComQuery, Encoding.UTF8.GetBytes(statement), cancellationToken).ConfigureAwait(false);
        bool deprecateEof = negotiated.HasFlag(MySqlCapabilities.DeprecateEof);
        MySqlQueryOutcome? outcome = null;
        bool more = true;
        while (more)
        {
            (MySqlQueryOutcome next, more) = await ReadResultAsync(channel, statement, deprecateEof, cancellationToken).ConfigureAwait(false);
            outcome ??= next; // the first result is the answer; later ones (a CALL's) are only drained
        }

        return outcome!;
    }

    private static async Task<(MySqlQueryOutcome Outcome, bool More)> ReadResultAsync(
        MySqlPacketChannel channel, string statement, bool deprecateEof, CancellationToken cancellationToken)
    {
        MySqlPacket first = await channel.ReadAsync(cancellationToken).ConfigureAwait(false);
        if (first.IsError)
        {
            return (MySqlQueryOutcome.Failed(statement, MySqlErrorPacket.Parse(first.Payload)), false);
        }

        if (first.IsOk)
        {
            return (MySqlQueryOutcome.Of(statement, MySqlResultSet.Empty), HasMoreResults(OkStatus(first.Payload)));
        }

        if (first.Header == LocalInfile)
        {
            throw new InvalidDataException("the server asked for a LOCAL INFILE, which a health check never sends");
        }

        int offset = 0;
        ulong columnCount = ReadLengthEncoded(first.Payload, ref offset) ?? throw new InvalidDataException("NULL column count");
        if (columnCount > 4096)
        {
            throw new InvalidDataException($"result set with {columnCount} columns");
        }

        var columns = new string[(int)columnCount];
        for (int i = 0; i < columns.Length; i++)
        {
            MySqlPacket definition = await channel.ReadAsync(cancellationToken).ConfigureAwait(false);
            columns[i] = ColumnName(definition.Payload);
        }

        if (!deprecateEof)
        {
            MySqlPacket eof = await channel.ReadAsync(cancellationToken).ConfigureAwait(false);
            if (eof.Payload.Length == 0 || eof.Header != EofHeader)
            {
                throw new InvalidDataException($"expected EOF after the column definitions, got 0x{eof.Header:x2}");
            }
        }

        var rows = new List<IReadOnlyList<string?>>();
        while (true)
        {
            MySqlPacket packet = await channel.ReadAsync(cancellationToken).ConfigureAwait(false);
            if (packet.IsError)
            {
                return (MySqlQueryOutcome.Failed(statement, MySqlErrorPacket.Parse(packet.Payload)), false);
            }

            // A row starting with 0xFE would be a value of 2^24 bytes or more, beyond MaxPayload: so 0xFE ends the rows.
            if (packet.Payload.Length > 0 && packet.Header == EofHeader)
            {
                ushort status = deprecateEof ? OkStatus(packet.Payload) : EofStatus(packet.Payload);
                return (MySqlQueryOutcome.Of(statement, new MySqlResultSet(columns, rows)), HasMoreResults(status));
            }

            rows.Add(ParseRow(packet.Payload, columns.Length));
        }
    }

    /// <summary>ColumnDefinition41: catalog, schema, table, org_table, name, … as length-encoded strings.</summary>
    internal static string ColumnName(byte[] payload)
    {
        int offset = 0;
        for (int skipped = 0; skipped < 4; skipped++)
        {
            _ = ReadLengthEncodedString(payload, ref offset);
        }

        return ReadLengthEncodedString(payload, ref offset) ?? string.Empty;
    }

    internal static string?[] ParseRow(byte[] payload, int columns)
    {
        int offset = 0;
        var values = new string?[columns];
        for (int i = 0; i < columns; i++)
        {
            values[i] = ReadLengthEncodedString(payload, ref offset);
        }

        return values;
    }

    private static bool HasMoreResults(ushort status) => (status & MoreResultsExists) != 0;

    /// <summary>EOF_Packet: 0xFE, warnings (2), status flags (2).</summary>
    private static ushort EofStatus(byte[] payload) =>
        payload.Length >= 5 ? BinaryPrimitives.ReadUInt16LittleEndian(payload.AsSpan(3)) : (ushort)0;

    /// <summary>OK_Packet: header, affected rows, last insert id (length-encoded), status flags (2).</summary>
    private static ushort OkStatus(byte[] payload)
    {
        int offset = 1;
        _ = ReadLengthEncoded(payload, ref offset);
        _ = ReadLengthEncoded(payload, ref offset);
        return offset + 2 <= payload.Length ? BinaryPrimitives.ReadUInt16LittleEndian(payload.AsSpan(offset)) : (ushort)0;
    }

    /// <summary>A length-encoded integer; null for 0xFB (NULL in a row).</summary>
    internal static ulong? ReadLengthEncoded(byte[] payload, ref int offset)
    {
        if (offset >= payload.Length)
        {
            throw new InvalidDataException("truncated packet");
        }

        byte first = payload[offset++];
        int size = first switch
        {
            < 0xFB => 0,
            0xFB => -1,
            0xFC => 2,
            0xFD => 3,
            0xFE => 8,
            _ => throw new InvalidDataException("invalid length-encoded integer 0xFF"),
        };
        if (size < 0)
        {
            return null;
        }

        if (size == 0)
        {
            return first;
        }

        if (offset + size > payload.Length)
        {
            throw new InvalidDataException("truncated packet");
        }

        ulong value = 0;
        for (int i = 0; i < size; i++)
        {
            value |= (ulong)payload[offset + i] << (8 * i);
        }

        offset += size;
        return value;
    }

    private static string? ReadLengthEncodedString(byte[] payload, ref int offset)
    {
        ulong? length = ReadLengthEncoded(payload, ref offset);
        if (length is null)
        {
            return null;
        }

        if (length.Value > (ulong)(payload.Length - offset))
        {
            throw new InvalidDataException("truncated packet");
        }

        string text = Encoding.UTF8.GetString(payload, offset, (int)length.Value);
        offset += (int)length.Value;
        return text;
    }
}
