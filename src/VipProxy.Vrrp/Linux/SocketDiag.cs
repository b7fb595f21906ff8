using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Tmds.Linux;

namespace VipProxy.Vrrp.Linux;

/// <summary>
/// NETLINK_SOCK_DIAG: lists TCP TIME_WAIT sockets (SOCK_DIAG_BY_FAMILY dump) and destroys the ones on given local
/// addresses (SOCK_DESTROY, what <c>ss -K</c> does; kernel CONFIG_INET_DIAG_DESTROY, CAP_NET_ADMIN). Layouts:
/// linux/inet_diag.h — inet_diag_req_v2 is 8 bytes then inet_diag_sockid (48: ports, src[4], dst[4], if,
/// cookie[2]); inet_diag_msg is 4 bytes then the sockid, then expires, queues, uid, inode.
/// </summary>
public sealed class SocketDiag : ITimeWaitReaper, IDisposable
{
    private const int NetlinkSockDiag = 4;
    private const ushort SockDiagByFamily = 20;
    private const ushort SockDestroy = 21;
    private const ushort NlmFRequest = 0x1;
    private const ushort NlmFAck = 0x4;
    private const ushort NlmFDump = 0x300;
    private const byte TcpTimeWait = 6;
    private const int RequestLength = 16 + 56;
    private const int SockIdOffset = 4;
    private const int SockIdLength = 48;
    private const int Enoent = 2;

    private readonly Socket _socket;
    private readonly Lock _gate = new();
    private readonly byte[] _receiveBuffer = new byte[64 * 1024];
    private uint _sequence;

    private SocketDiag(Socket socket) => _socket = socket;

    /// <summary>Opens the socket in the calling thread's network namespace (the one whose sockets it will see).</summary>
    public static SocketDiag Open()
    {
        Socket socket = LinuxSockets.Create(LinuxSockets.AfNetlink, LibC.SOCK_RAW, NetlinkSockDiag);
        try
        {
            LinuxSockets.BindNetlink(socket, 0);
            socket.ReceiveTimeout = 5000;
            return new SocketDiag(socket);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <inheritdoc/>
    public void Dispose() => _socket.Dispose();

    /// <inheritdoc/>
    public int DestroyTimeWait(IReadOnlyCollection<IPAddress> localAddresses)
    {
        ArgumentNullException.ThrowIfNull(localAddresses);
        var wanted = localAddresses.Where(a => a.AddressFamily == AddressFamily.InterNetwork).ToHashSet();
        if (wanted.Count == 0)
        {
            return 0;
        }

        lock (_gate)
        {
            return DestroyLocked(wanted);
        }
    }

    private int DestroyLocked(HashSet<IPAddress> wanted)
    {
        // The dump first, then one SOCK_DESTROY per socket: the kernel finds each by its id, cookie included.
        var victims = new List<byte[]>();
        Exchange(SockDiagByFamily, NlmFDump, new byte[SockIdLength], payload =>
        {
            if (payload.Length >= SockIdOffset + SockIdLength && payload[1] == TcpTimeWait)
            {
                var local = new IPAddress(payload.AsSpan(SockIdOffset + 4, 4));
                if (wanted.Contains(local))
                {
                    victims.Add(payload.AsSpan(SockIdOffset, SockIdLength).ToArray());
                }
            }
        });

        int destroyed = 0;
        foreach (byte[] id in victims)
        {
            // ENOENT: it expired between the dump and now, which is what we wanted anyway.
            int error = Exchange(SockDestroy, NlmFAck, id, static _ => { });
            if (error == 0)
            {
                destroyed++;
            }
            else if (error != Enoent)
            {
                throw new SocketException(error);
            }
        }

        return destroyed;
    }

    /// <summary>Sends one request and reads its replies (see <see cref="NetlinkRoute.ReadReplies"/>).</summary>
    private int Exchange(ushort type, ushort flags, ReadOnlySpan<byte> sockId, Action<byte[]> onMessage)
    {
        uint sequence = ++_sequence;
        var message = new byte[RequestLength];
        var span = message.AsSpan();
        BinaryPrimitives.WriteUInt32LittleEndian(span, RequestLength);
        BinaryPrimitives.WriteUInt16LittleEndian(span[4..], type);
        BinaryPrimitives.WriteUInt16LittleEndian(span[6..], (ushort)(flags | NlmFRequest));
        BinaryPrimitives.WriteUInt32LittleEndian(span[8..], sequence);
        span[16] = (byte)AddressFamily.InterNetwork;
        span[17] = (byte)ProtocolType.Tcp;
        BinaryPrimitives.WriteUInt32LittleEndian(span[20..], 1u << TcpTimeWait);
        sockId.CopyTo(span[24..]);
        _socket.Send(message);
        return NetlinkRoute.ReadReplies(_socket, _receiveBuffer, sequence, (_, payload) => onMessage(payload));
    }
}
