using System.Net;

namespace VipProxy.Vrrp.Protocol;

/// <summary>A structurally valid advert together with the IPv4 header facts the checks and the election need.</summary>
/// <param name="Packet">The decoded VRRP message.</param>
/// <param name="Source">IP source: the sender's primary address, used for tie-breaks (RFC 5798 §6.4.3) and peer checks.</param>
/// <param name="Destination">IP destination: 224.0.0.18, or our address in unicast mode.</param>
/// <param name="TimeToLive">IP TTL as received; must be 255 unless that check is turned off (RFC 5798 §7.1).</param>
public sealed record ReceivedAdvertisement(VrrpPacket Packet, IPAddress Source, IPAddress Destination, byte TimeToLive);
