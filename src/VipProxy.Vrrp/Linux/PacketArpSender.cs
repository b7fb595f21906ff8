using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace VipProxy.Vrrp.Linux;

/// <summary>
/// Gratuitous ARP over an AF_PACKET datagram socket (.NET creates AF_PACKET sockets itself). SOCK_DGRAM: the kernel
/// writes the Ethernet header from the <c>sockaddr_ll</c> (destination ff:ff:ff:ff:ff:ff, EtherType 0x0806) with the
/// interface's MAC as source; we write the 28-byte ARP body (RFC 826; gratuitous form as RFC 5227 §3 and keepalived:
/// an ARP request whose sender and target protocol addresses are both the VIP).
/// </summary>
public sealed class PacketArpSender : IGratuitousArpSender
{
    private const ushort EthPArp = 0x0806;
    private readonly Socket _socket;
    private readonly LinkLayerEndPoint _broadcast;

    private PacketArpSender(Socket socket, LinkLayerEndPoint broadcast)
    {
        _socket = socket;
        _broadcast = broadcast;
    }

    /// <summary>Opens a packet socket in the calling thread's network namespace for interface <paramref name="interfaceIndex"/>.</summary>
    public static PacketArpSender Open(int interfaceIndex)
    {
        // Protocol 0: the socket receives nothing (an ETH_P_ARP socket would queue every ARP of the host, unread);
        // the EtherType of what we send comes from the sockaddr_ll.
        var socket = new Socket(AddressFamily.Packet, SocketType.Dgram, ProtocolType.IP);
        return new PacketArpSender(socket, new LinkLayerEndPoint(interfaceIndex, EthPArp, [0xff, 0xff, 0xff, 0xff, 0xff, 0xff]));
    }

    /// <summary>The ARP body: Ethernet/IPv4, opcode 1 (request), sender = target = address, target MAC broadcast as keepalived.</summary>
    public static byte[] BuildRequest(IPAddress address, ReadOnlySpan<byte> senderMac)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (senderMac.Length != 6)
        {
            throw new ArgumentException("An Ethernet MAC has 6 bytes.", nameof(senderMac));
        }

        var arp = new byte[28];
        var span = arp.AsSpan();
        BinaryPrimitives.WriteUInt16BigEndian(span, 1);          // hardware type Ethernet
        BinaryPrimitives.WriteUInt16BigEndian(span[2..], 0x0800); // protocol IPv4
        span[4] = 6;
        span[5] = 4;
        BinaryPrimitives.WriteUInt16BigEndian(span[6..], 1);     // request
        senderMac.CopyTo(span[8..]);
        address.TryWriteBytes(span[14..18], out _);
        span[18..24].Fill(0xff);
        address.TryWriteBytes(span[24..28], out _);
        return arp;
    }

    /// <inheritdoc/>
    public void Send(IPAddress address, ReadOnlySpan<byte> senderMac) =>
        _socket.SendTo(BuildRequest(address, senderMac), SocketFlags.None, _broadcast);

    /// <inheritdoc/>
    public void Dispose() => _socket.Dispose();

    /// <summary>A <c>sockaddr_ll</c> (linux/if_packet.h, 20 bytes) for <see cref="Socket.SendTo(byte[], EndPoint)"/>.</summary>
    private sealed class LinkLayerEndPoint(int interfaceIndex, ushort protocol, byte[] address) : EndPoint
    {
        public override AddressFamily AddressFamily => AddressFamily.Packet;

        public override SocketAddress Serialize()
        {
            var socketAddress = new SocketAddress(AddressFamily.Packet, 20);
            var buffer = socketAddress.Buffer.Span;
            BinaryPrimitives.WriteUInt16BigEndian(buffer[2..], protocol);      // sll_protocol, network order
            BinaryPrimitives.WriteInt32LittleEndian(buffer[4..], interfaceIndex); // sll_ifindex
            BinaryPrimitives.WriteUInt16LittleEndian(buffer[8..], 1);           // sll_hatype ARPHRD_ETHER
            buffer[10] = 0;                                                     // sll_pkttype
            buffer[11] = (byte)address.Length;                                  // sll_halen
            address.CopyTo(buffer[12..]);
            return socketAddress;
        }

        public override EndPoint Create(SocketAddress socketAddress) => this;
    }
}
