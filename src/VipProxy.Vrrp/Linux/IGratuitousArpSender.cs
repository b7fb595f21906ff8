using System.Net;

namespace VipProxy.Vrrp.Linux;

/// <summary>Sends gratuitous ARPs on one interface (AF_PACKET).</summary>
public interface IGratuitousArpSender : IDisposable
{
    /// <summary>
    /// One ARP request announcing <paramref name="address"/> at <paramref name="senderMac"/>: sender = target =
    /// address, to the Ethernet broadcast, so every neighbour updates an existing entry.
    /// </summary>
    void Send(IPAddress address, ReadOnlySpan<byte> senderMac);
}
