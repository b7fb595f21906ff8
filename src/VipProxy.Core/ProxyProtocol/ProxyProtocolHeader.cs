using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace VipProxy.Core.ProxyProtocol;

/// <summary>
/// Encodes the PROXY protocol header (haproxy.org/download/2.6/doc/proxy-protocol.txt) that tells a real server
/// who the client is: version 1, the text line <c>PROXY TCP4 src dst sport dport\r\n</c>, or version 2, the binary
/// header after its 12-byte signature. Pure: writes into a caller's buffer (stack memory on the forwarding path).
/// </summary>
public static class ProxyProtocolHeader
{
    /// <summary>Room for any header this encoder writes: the spec's longest v1 line is 107 bytes with CRLF
    /// ("PROXY UNKNOWN" with addresses); v2 for TCP over IPv6 is 16 + 36 = 52.</summary>
    public const int MaxLength = 108;

    /// <summary>The v2 signature: a CRLF CRLF NUL CRLF "QUIT" LF sequence no other protocol starts with.</summary>
    public static ReadOnlySpan<byte> V2Signature => [0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A];

    private const byte V2ProxyCommand = 0x21; // version 2 in the high nibble, PROXY (on behalf of a client) in the low
    private const byte V2TcpOverIPv4 = 0x11;
    private const byte V2TcpOverIPv6 = 0x21;
    private const int V2FixedLength = 16;
    private const int V2IPv4AddressLength = 12;
    private const int V2IPv6AddressLength = 36;

    /// <summary>
    /// Writes the header of <paramref name="version"/> for a TCP connection from <paramref name="source"/> to
    /// <paramref name="destination"/> (what the client connected to: the virtual server) and returns its length.
    /// IPv4-mapped IPv6 addresses (dual-stack listeners) are written as IPv4; if one side is IPv4 and the other IPv6,
    /// both are written as IPv6.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="buffer"/> is shorter than needed (<see cref="MaxLength"/> always suffices).</exception>
    public static int Write(Span<byte> buffer, ProxyProtocolVersion version, IPEndPoint source, IPEndPoint destination)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(destination);
        (IPAddress sourceAddress, IPAddress destinationAddress) = SameFamily(source.Address, destination.Address);
        return version switch
        {
            ProxyProtocolVersion.V1 => WriteV1(buffer, sourceAddress, source.Port, destinationAddress, destination.Port),
            ProxyProtocolVersion.V2 => WriteV2(buffer, sourceAddress, source.Port, destinationAddress, destination.Port),
            _ => throw new ArgumentOutOfRangeException(nameof(version), version, "no header for this version"),
        };
    }

    private static (IPAddress Source, IPAddress Destination) SameFamily(IPAddress source, IPAddress destination)
    {
        if (source.IsIPv4MappedToIPv6)
        {
            source = source.MapToIPv4();
        }

        if (destination.IsIPv4MappedToIPv6)
        {
            destination = destination.MapToIPv4();
        }

        if (source.AddressFamily != destination.AddressFamily)
        {
            source = source.MapToIPv6();
            destination = destination.MapToIPv6();
        }

        return (source, destination);
    }

    private static int WriteV1(Span<byte> buffer, IPAddress source, int sourcePort, IPAddress destination, int destinationPort)
    {
        int length = 0;
        Append(buffer, ref length, source.AddressFamily == AddressFamily.InterNetwork ? "PROXY TCP4 "u8 : "PROXY TCP6 "u8);
        AppendAddress(buffer, ref length, source);
        Append(buffer, ref length, " "u8);
        AppendAddress(buffer, ref length, destination);
        Append(buffer, ref length, " "u8);
        AppendNumber(buffer, ref length, sourcePort);
        Append(buffer, ref length, " "u8);
        AppendNumber(buffer, ref length, destinationPort);
        Append(buffer, ref length, "\r\n"u8);
        return length;
    }

    private static int WriteV2(Span<byte> buffer, IPAddress source, int sourcePort, IPAddress destination, int destinationPort)
    {
        bool ipv4 = source.AddressFamily == AddressFamily.InterNetwork;
        int addressLength = ipv4 ? V2IPv4AddressLength : V2IPv6AddressLength;
        int total = V2FixedLength + addressLength;
        if (buffer.Length < total)
        {
            throw new ArgumentException($"the buffer needs {total} bytes", nameof(buffer));
        }

        V2Signature.CopyTo(buffer);
        buffer[12] = V2ProxyCommand;
        buffer[13] = ipv4 ? V2TcpOverIPv4 : V2TcpOverIPv6;
        BinaryPrimitives.WriteUInt16BigEndian(buffer[14..], (ushort)addressLength);
        int size = ipv4 ? 4 : 16;
        Span<byte> addresses = buffer[V2FixedLength..total];
        WriteAddressBytes(source, addresses[..size]);
        WriteAddressBytes(destination, addresses.Slice(size, size));
        BinaryPrimitives.WriteUInt16BigEndian(addresses[(2 * size)..], (ushort)sourcePort);
        BinaryPrimitives.WriteUInt16BigEndian(addresses[(2 * size + 2)..], (ushort)destinationPort);
        return total;
    }

    private static void WriteAddressBytes(IPAddress address, Span<byte> destination)
    {
        if (!address.TryWriteBytes(destination, out int written) || written != destination.Length)
        {
            throw new ArgumentException($"cannot write {address} in {destination.Length} bytes", nameof(address));
        }
    }

    private static void Append(Span<byte> buffer, ref int length, ReadOnlySpan<byte> text)
    {
        if (!text.TryCopyTo(buffer[length..]))
        {
            throw TooShort();
        }

        length += text.Length;
    }

    private static void AppendAddress(Span<byte> buffer, ref int length, IPAddress address)
    {
        // Scope ids (fe80::1%2) mean nothing to the real server and are not in the spec's address syntax.
        if (address.AddressFamily == AddressFamily.InterNetworkV6 && address.ScopeId != 0)
        {
            Span<byte> bytes = stackalloc byte[16];
            address.TryWriteBytes(bytes, out _);
            address = new IPAddress(bytes);
        }

        if (!((IUtf8SpanFormattable)address).TryFormat(buffer[length..], out int written, default, null))
        {
            throw TooShort();
        }

        length += written;
    }

    private static void AppendNumber(Span<byte> buffer, ref int length, int value)
    {
        if (!value.TryFormat(buffer[length..], out int written, default, System.Globalization.CultureInfo.InvariantCulture))
        {
            throw TooShort();
        }

        length += written;
    }

    private static ArgumentException TooShort() => new($"the buffer needs up to {MaxLength} bytes", "buffer");
}
