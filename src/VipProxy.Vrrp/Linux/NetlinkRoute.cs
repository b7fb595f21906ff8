using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Tmds.Linux;

namespace VipProxy.Vrrp.Linux;

/// <summary>
/// NETLINK_ROUTE over an AF_NETLINK socket (created through libc, wrapped in a SafeSocketHandle: .NET refuses the
/// family). Messages are built by hand: Tmds.LibC defines no netlink structs. Layouts: linux/netlink.h
/// (nlmsghdr 16 bytes, nlmsgerr), linux/rtnetlink.h (rtattr, ifinfomsg 16 bytes), linux/if_addr.h (ifaddrmsg 8 bytes).
/// </summary>
public sealed class NetlinkRoute : INetlinkRoute
{
    internal const ushort NlmsgError = 2;
    internal const ushort NlmsgDone = 3;
    internal const ushort RtmNewLink = 16;
    internal const ushort RtmDelLink = 17;
    internal const ushort RtmGetLink = 18;
    internal const ushort RtmNewAddr = 20;
    internal const ushort RtmDelAddr = 21;
    internal const ushort RtmGetAddr = 22;
    internal const uint RtmgrpLink = 1;

    private const ushort NlmFRequest = 0x1;
    private const ushort NlmFAck = 0x4;
    private const ushort NlmFDump = 0x300;
    private const ushort NlmFCreate = 0x400;
    private const ushort NlmFExcl = 0x200;
    private const ushort IfaAddress = 1;
    private const ushort IfaLocal = 2;
    private const ushort IfaLabel = 3;
    private const ushort IfaBroadcast = 4;
    private const ushort IflaAddress = 1;
    private const ushort IflaIfname = 3;
    private const byte IfaFSecondary = 0x01;
    private const uint IffUp = 0x1;
    private const uint IffRunning = 0x40;
    private const int Eexist = 17;
    private const int Enoent = 2;
    private const int Eaddrnotavail = 99;
    private const int Esrch = 3;
    private const int NetlinkRouteProtocol = 0; // NETLINK_ROUTE

    private readonly Socket _socket;
    private readonly Lock _gate = new();
    private readonly byte[] _receiveBuffer = new byte[64 * 1024];
    private uint _sequence;

    private NetlinkRoute(Socket socket) => _socket = socket;

    /// <summary>Opens a request socket in the calling thread's network namespace.</summary>
    public static NetlinkRoute Open() => new(OpenSocket(groups: 0));

    internal static Socket OpenSocket(uint groups)
    {
        var socket = LinuxSockets.Create(LinuxSockets.AfNetlink, LibC.SOCK_RAW, NetlinkRouteProtocol);
        try
        {
            LinuxSockets.BindNetlink(socket, groups);
            if (groups == 0)
            {
                socket.ReceiveTimeout = 5000;
            }

            LinuxSockets.SetInt(socket, LinuxSockets.SolSocket, LinuxSockets.SoRcvBuf, 1 << 20);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <inheritdoc/>
    public IReadOnlyList<LinkState> GetLinks()
    {
        var links = new List<LinkState>();
        Span<byte> body = stackalloc byte[16]; // ifinfomsg, AF_UNSPEC: every link
        body.Clear();
        Request(RtmGetLink, NlmFDump, body, [], (type, payload) =>
        {
            if (type == RtmNewLink && TryParseLink(type, payload, out var link))
            {
                links.Add(link);
            }
        });
        return links;
    }

    /// <inheritdoc/>
    public IReadOnlyList<InterfaceAddressEntry> GetIPv4Addresses(int interfaceIndex)
    {
        var addresses = new List<InterfaceAddressEntry>();
        Span<byte> body = stackalloc byte[8];
        body.Clear();
        body[0] = (byte)AddressFamily.InterNetwork;
        Request(RtmGetAddr, NlmFDump, body, [], (type, payload) =>
        {
            if (type != RtmNewAddr || payload.Length < 8 || payload[0] != (byte)AddressFamily.InterNetwork)
            {
                return;
            }

            int index = BinaryPrimitives.ReadInt32LittleEndian(payload[4..]);
            if (index != interfaceIndex)
            {
                return;
            }

            IPAddress? local = null;
            IPAddress? address = null;
            string? label = null;
            foreach (var (attrType, value) in Attributes(payload[8..]))
            {
                switch (attrType)
                {
                    case IfaLocal when value.Length == 4:
                        local = new IPAddress(value);
                        break;
                    case IfaAddress when value.Length == 4:
                        address = new IPAddress(value);
                        break;
                    case IfaLabel:
                        label = CString(value);
                        break;
                }
            }

            // IFA_LOCAL is the interface's own address; IFA_ADDRESS is the peer on point-to-point links.
            var own = local ?? address;
            if (own is not null)
            {
                addresses.Add(new InterfaceAddressEntry(own, payload[1], label, (payload[2] & IfaFSecondary) != 0));
            }
        });
        return addresses;
    }

    /// <inheritdoc/>
    public bool AddAddress(int interfaceIndex, AddressRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var attributes = new List<(ushort, byte[])>
        {
            (IfaLocal, request.Address.GetAddressBytes()),
            (IfaAddress, request.Address.GetAddressBytes()),
        };
        if (request.Broadcast is not null)
        {
            attributes.Add((IfaBroadcast, request.Broadcast.GetAddressBytes()));
        }

        if (!string.IsNullOrEmpty(request.Label))
        {
            // IFA_LABEL: what `ip addr` shows as the alias name (keepalived's `label`); at most IFNAMSIZ-1 bytes.
            attributes.Add((IfaLabel, Encoding.ASCII.GetBytes(request.Label + "\0")));
        }

        int error = Change(RtmNewAddr, NlmFCreate | NlmFExcl, interfaceIndex, request.PrefixLength, request.Scope, attributes);
        return error switch
        {
            0 => true,
            Eexist => false,
            _ => throw new SocketException(error),
        };
    }

    /// <inheritdoc/>
    public bool RemoveAddress(int interfaceIndex, IPAddress address, int prefixLength)
    {
        ArgumentNullException.ThrowIfNull(address);
        int error = Change(RtmDelAddr, 0, interfaceIndex, prefixLength, 0, [(IfaLocal, address.GetAddressBytes())]);
        return error switch
        {
            0 => true,
            Eaddrnotavail or Enoent or Esrch => false,
            _ => throw new SocketException(error),
        };
    }

    /// <inheritdoc/>
    public ILinkWatcher WatchLinks() => new NetlinkLinkWatcher(OpenSocket(RtmgrpLink));

    /// <inheritdoc/>
    public void Dispose() => _socket.Dispose();

    /// <summary>Parses an ifinfomsg with its attributes.</summary>
    internal static bool TryParseLink(ushort type, ReadOnlySpan<byte> payload, out LinkState link)
    {
        link = null!;
        if (payload.Length < 16)
        {
            return false;
        }

        int index = BinaryPrimitives.ReadInt32LittleEndian(payload[4..]);
        uint flags = BinaryPrimitives.ReadUInt32LittleEndian(payload[8..]);
        string? name = null;
        byte[] hardware = [];
        foreach (var (attrType, value) in Attributes(payload[16..]))
        {
            if (attrType == IflaIfname)
            {
                name = CString(value);
            }
            else if (attrType == IflaAddress)
            {
                hardware = value;
            }
        }

        bool up = type == RtmNewLink && (flags & (IffUp | IffRunning)) == (IffUp | IffRunning);
        link = new LinkState(index, name ?? string.Empty, up, hardware);
        return true;
    }

    /// <summary>Walks the netlink messages in one received buffer.</summary>
    /// <summary>Reads the replies to request <paramref name="sequence"/> until its ACK/error (returns the positive
    /// errno, 0 = success) or DONE, passing every other message of it to <paramref name="onMessage"/>.</summary>
    internal static int ReadReplies(Socket socket, byte[] buffer, uint sequence, Action<ushort, byte[]> onMessage)
    {
        while (true)
        {
            int received = socket.Receive(buffer);
            foreach (var (replyType, _, replySequence, payload) in Messages(buffer, received))
            {
                if (replySequence != sequence)
                {
                    continue; // a late reply to an earlier, timed-out request
                }

                if (replyType == NlmsgError)
                {
                    return payload.Length >= 4 ? -BinaryPrimitives.ReadInt32LittleEndian(payload) : 0;
                }

                if (replyType == NlmsgDone)
                {
                    return 0;
                }

                onMessage(replyType, payload);
            }
        }
    }

    internal static IEnumerable<(ushort Type, ushort Flags, uint Sequence, byte[] Payload)> Messages(byte[] buffer, int length)
    {
        int offset = 0;
        while (offset + 16 <= length)
        {
            int messageLength = (int)BinaryPrimitives.ReadUInt32LittleEndian(buffer.AsSpan(offset));
            if (messageLength < 16 || offset + messageLength > length)
            {
                yield break;
            }

            ushort type = BinaryPrimitives.ReadUInt16LittleEndian(buffer.AsSpan(offset + 4));
            ushort flags = BinaryPrimitives.ReadUInt16LittleEndian(buffer.AsSpan(offset + 6));
            uint sequence = BinaryPrimitives.ReadUInt32LittleEndian(buffer.AsSpan(offset + 8));
            yield return (type, flags, sequence, buffer.AsSpan(offset + 16, messageLength - 16).ToArray());
            offset += Align(messageLength);
        }
    }

    private static List<(ushort Type, byte[] Value)> Attributes(ReadOnlySpan<byte> data)
    {
        var result = new List<(ushort, byte[])>();
        int offset = 0;
        while (offset + 4 <= data.Length)
        {
            int length = BinaryPrimitives.ReadUInt16LittleEndian(data[offset..]);
            ushort type = (ushort)(BinaryPrimitives.ReadUInt16LittleEndian(data[(offset + 2)..]) & 0x3FFF);
            if (length < 4 || offset + length > data.Length)
            {
                break;
            }

            result.Add((type, data.Slice(offset + 4, length - 4).ToArray()));
            offset += Align(length);
        }

        return result;
    }

    private static string CString(ReadOnlySpan<byte> value)
    {
        int end = value.IndexOf((byte)0);
        return Encoding.ASCII.GetString(end < 0 ? value : value[..end]);
    }

    private static int Align(int length) => (length + 3) & ~3;

    private int Change(ushort type, ushort flags, int interfaceIndex, int prefixLength, byte scope, List<(ushort, byte[])> attributes)
    {
        Span<byte> body = stackalloc byte[8];
        body.Clear();
        body[0] = (byte)AddressFamily.InterNetwork;
        body[1] = checked((byte)prefixLength);
        body[3] = scope;
        BinaryPrimitives.WriteInt32LittleEndian(body[4..], interfaceIndex);
        return Request(type, (ushort)(flags | NlmFAck), body, attributes, static (_, _) => { });
    }

    /// <summary>Sends one request and reads replies until its ACK/error (returns the positive errno, 0 = success) or DONE.</summary>
    private int Request(ushort type, ushort flags, ReadOnlySpan<byte> body, List<(ushort Type, byte[] Value)> attributes, Action<ushort, byte[]> onMessage)
    {
        int length = 16 + Align(body.Length);
        foreach (var (_, value) in attributes)
        {
            length += Align(4 + value.Length);
        }

        var message = new byte[length];
        lock (_gate)
        {
            uint sequence = ++_sequence;
            var span = message.AsSpan();
            BinaryPrimitives.WriteUInt32LittleEndian(span, (uint)length);
            BinaryPrimitives.WriteUInt16LittleEndian(span[4..], type);
            BinaryPrimitives.WriteUInt16LittleEndian(span[6..], (ushort)(flags | NlmFRequest));
            BinaryPrimitives.WriteUInt32LittleEndian(span[8..], sequence);
            body.CopyTo(span[16..]);
            int offset = 16 + Align(body.Length);
            foreach (var (attrType, value) in attributes)
            {
                BinaryPrimitives.WriteUInt16LittleEndian(span[offset..], (ushort)(4 + value.Length));
                BinaryPrimitives.WriteUInt16LittleEndian(span[(offset + 2)..], attrType);
                value.CopyTo(span[(offset + 4)..]);
                offset += Align(4 + value.Length);
            }

            _socket.Send(message);
            return ReadReplies(_socket, _receiveBuffer, sequence, onMessage);
        }
    }

    private sealed class NetlinkLinkWatcher(Socket socket) : ILinkWatcher
    {
        private readonly byte[] _buffer = new byte[64 * 1024];

        public async ValueTask<IReadOnlyList<LinkState>> ReceiveAsync(CancellationToken cancellationToken)
        {
            int received = await socket.ReceiveAsync(_buffer.AsMemory(), SocketFlags.None, cancellationToken).ConfigureAwait(false);
            var links = new List<LinkState>();
            foreach (var (type, _, _, payload) in Messages(_buffer, received))
            {
                if ((type == RtmNewLink || type == RtmDelLink) && TryParseLink(type, payload, out var link))
                {
                    links.Add(link);
                }
            }

            return links;
        }

        public void Dispose() => socket.Dispose();
    }
}
