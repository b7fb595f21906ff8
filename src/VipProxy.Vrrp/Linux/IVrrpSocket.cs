using System.Net;

namespace VipProxy.Vrrp.Linux;

/// <summary>
/// The VRRP wire on one interface: IP protocol 112, multicast group joined, datagrams in and out with their IPv4
/// header. One socket serves every instance on its interface; the runtime decodes each datagram once and routes it by
/// VRID.
/// </summary>
public interface IVrrpSocket : IDisposable
{
    /// <summary>Receives one datagram, starting at its IPv4 header (TTL at byte 8, source at 12). Returns its length.</summary>
    ValueTask<int> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken);

    /// <summary>Sends a complete IPv4 datagram (header built by the caller, TTL 255) to <paramref name="destination"/>.</summary>
    void Send(ReadOnlySpan<byte> ipDatagram, IPAddress destination);
}

/// <summary>Where a <see cref="IVrrpSocket"/> lives.</summary>
/// <param name="InterfaceName">The instance's <c>interface</c>.</param>
/// <param name="InterfaceIndex">Its ifindex.</param>
/// <param name="LocalAddress">Our primary address there (IP_MULTICAST_IF).</param>
/// <param name="MulticastGroup">224.0.0.18 or <c>vrrp_mcast_group4</c>.</param>
public sealed record VrrpSocketOptions(string InterfaceName, int InterfaceIndex, IPAddress LocalAddress, IPAddress MulticastGroup);
