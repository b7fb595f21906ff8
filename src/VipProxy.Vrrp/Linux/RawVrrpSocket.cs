using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Tmds.Linux;
using VipProxy.Vrrp.Protocol;

namespace VipProxy.Vrrp.Linux;

/// <summary>
/// A raw IPv4 socket for protocol 112 bound to one interface. .NET refuses <c>new Socket(InterNetwork, Raw, 112)</c>,
/// so the fd comes from libc <c>socket()</c> and is wrapped in a <see cref="SafeSocketHandle"/>.
/// <para>
/// Sending uses IP_HDRINCL: we write the IPv4 header ourselves (<see cref="VrrpCodec.EncodeIPv4Datagram"/>). The
/// source address then is exactly the primary address the VRRPv3 pseudo-header checksum and the peers' equal-priority
/// tie-break were computed with; letting the kernel choose could pick a /32 VIP we just added (it is a primary address
/// of its own subnet), breaking the checksum and the election. keepalived builds the header itself for the same
/// reason. TTL 255 (RFC 5798 §5.1.1.3) and TOS 0xC0 go on every packet, unicast included.
/// </para>
/// </summary>
public sealed class RawVrrpSocket : IVrrpSocket
{
    private readonly Socket _socket;

    private RawVrrpSocket(Socket socket) => _socket = socket;

    /// <summary>Opens the socket in the calling thread's network namespace.</summary>
    public static RawVrrpSocket Open(VrrpSocketOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var socket = LinuxSockets.Create(LibC.AF_INET, LibC.SOCK_RAW, VrrpPacket.IPProtocolNumber);
        try
        {
            // Only this interface's packets, and sends leave through it whatever the routing table says.
            LinuxSockets.BindToDevice(socket, options.InterfaceName);
            LinuxSockets.SetInt(socket, LinuxSockets.SolIp, LinuxSockets.IpHdrIncl, 1);

            // Multicast: TTL 255 (RFC 5798 §5.1.1.3; IP_HDRINCL writes it anyway), out of this interface
            // (IP_MULTICAST_IF with an ip_mreqn), our own adverts not looped back, member of the group on this
            // interface so the NIC and the kernel deliver 224.0.0.18 to us.
            LinuxSockets.SetInt(socket, LinuxSockets.SolIp, LinuxSockets.IpMulticastTtl, 255);
            LinuxSockets.SetInt(socket, LinuxSockets.SolIp, LinuxSockets.IpMulticastLoop, 0);
            Span<byte> mreqn = stackalloc byte[12];
            mreqn.Clear();
            options.LocalAddress.TryWriteBytes(mreqn[4..8], out _);
            BinaryPrimitives.WriteInt32LittleEndian(mreqn[8..], options.InterfaceIndex);
            socket.SetRawSocketOption(LinuxSockets.SolIp, LinuxSockets.IpMulticastIf, mreqn);
            socket.SetSocketOption(SocketOptionLevel.IP, SocketOptionName.AddMembership,
                new MulticastOption(options.MulticastGroup, options.InterfaceIndex));
            return new RawVrrpSocket(socket);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <inheritdoc/>
    public ValueTask<int> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken) =>
        _socket.ReceiveAsync(buffer, SocketFlags.None, cancellationToken);

    /// <inheritdoc/>
    public void Send(ReadOnlySpan<byte> ipDatagram, IPAddress destination) =>
        _socket.SendTo(ipDatagram, SocketFlags.None, new IPEndPoint(destination, 0));

    /// <inheritdoc/>
    public void Dispose() => _socket.Dispose();
}
