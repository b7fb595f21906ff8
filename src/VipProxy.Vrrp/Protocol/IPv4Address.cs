using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace VipProxy.Vrrp.Protocol;

/// <summary>IPv4 address helpers that avoid allocating on the receive path.</summary>
internal static class IPv4Address
{
    public static bool IsIPv4(IPAddress? address) => address is { AddressFamily: AddressFamily.InterNetwork };

    /// <summary>The address as a host-order number, so numeric order equals the RFC's "greater address".</summary>
    public static uint ToUInt32(IPAddress address)
    {
        Span<byte> bytes = stackalloc byte[4];
        if (!address.TryWriteBytes(bytes, out int written) || written != 4)
        {
            throw new ArgumentException("Not an IPv4 address: " + address, nameof(address));
        }

        return BinaryPrimitives.ReadUInt32BigEndian(bytes);
    }

    /// <summary>
    /// Compares two IPv4 addresses as unsigned 32-bit numbers. RFC 5798 §6.4.3 breaks priority ties with "the primary
    /// IPvX address of the sender is greater than the local primary IPvX address"; keepalived compares the same way.
    /// </summary>
    public static int Compare(IPAddress left, IPAddress right) => ToUInt32(left).CompareTo(ToUInt32(right));

    public static bool Contains(IReadOnlyList<IPAddress> list, uint address)
    {
        for (int i = 0; i < list.Count; i++)
        {
            if (ToUInt32(list[i]) == address)
            {
                return true;
            }
        }

        return false;
    }
}
