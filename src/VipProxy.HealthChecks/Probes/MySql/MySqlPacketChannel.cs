using System.Buffers.Binary;
using System.Net.Sockets;

namespace VipProxy.HealthChecks.Probes.MySql;

/// <summary>
/// Reads and writes MySQL packets on a socket: a 3-byte little-endian payload length, a sequence id, the payload.
/// Tracks the sequence: every packet of one exchange (the handshake, or one command and its reply) carries the
/// next id; a new command starts again at 0.
/// </summary>
/// <remarks>A health check only ever sees small packets (greeting, OK, ERR, a public key), so packets split at
/// 16 MiB are not supported and anything over <see cref="MaxPayload"/> is a protocol error.</remarks>
internal sealed class MySqlPacketChannel(Socket socket)
{
    public const int MaxPayload = 64 * 1024;

    private readonly byte[] _header = new byte[4];
    private byte _nextSequence;

    /// <summary>Reads one packet; <see cref="EndOfStreamException"/> if the server closes first.</summary>
    public async Task<MySqlPacket> ReadAsync(CancellationToken cancellationToken)
    {
        await ReadExactlyAsync(_header, cancellationToken).ConfigureAwait(false);
        int length = _header[0] | (_header[1] << 8) | (_header[2] << 16);
        if (length > MaxPayload)
        {
            throw new InvalidDataException($"packet of {length} bytes is too large for a health check");
        }

        byte sequence = _header[3];
        var payload = new byte[length];
        await ReadExactlyAsync(payload, cancellationToken).ConfigureAwait(false);
        _nextSequence = (byte)(sequence + 1);
        return new MySqlPacket(sequence, payload);
    }

    /// <summary>Sends a packet that continues the current exchange.</summary>
    public Task WriteAsync(ReadOnlyMemory<byte> payload, CancellationToken cancellationToken) =>
        WriteAsync(_nextSequence, payload, cancellationToken);

    /// <summary>Sends a command: a new exchange, sequence id 0.</summary>
    public Task WriteCommandAsync(byte command, CancellationToken cancellationToken) =>
        WriteAsync(0, new[] { command }, cancellationToken);

    /// <summary>Sends a command with its argument (e.g. COM_QUERY and the statement): a new exchange.</summary>
    public Task WriteCommandAsync(byte command, ReadOnlySpan<byte> argument, CancellationToken cancellationToken) =>
        WriteAsync(0, (byte[])[command, .. argument], cancellationToken);

    private async Task WriteAsync(byte sequence, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
    {
        var packet = new byte[4 + payload.Length];
        BinaryPrimitives.WriteInt32LittleEndian(packet, payload.Length);
        packet[3] = sequence;
        payload.CopyTo(packet.AsMemory(4));
        _nextSequence = (byte)(sequence + 1);
        int sent = 0;
        while (sent < packet.Length)
        {
            sent += await socket.SendAsync(packet.AsMemory(sent), SocketFlags.None, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Waits until the server closes the connection (after COM_QUIT), discarding anything it sends.</summary>
    public async Task WaitForCloseAsync(CancellationToken cancellationToken)
    {
        var sink = new byte[256];
        while (await socket.ReceiveAsync(sink, SocketFlags.None, cancellationToken).ConfigureAwait(false) > 0)
        {
        }
    }

    private async Task ReadExactlyAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        while (buffer.Length > 0)
        {
            int read = await socket.ReceiveAsync(buffer, SocketFlags.None, cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                throw new EndOfStreamException();
            }

            buffer = buffer[read..];
        }
    }
}
