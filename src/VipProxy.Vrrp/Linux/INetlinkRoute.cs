using System.Net;

namespace VipProxy.Vrrp.Linux;

/// <summary>
/// The routing netlink surface (NETLINK_ROUTE) VRRP needs: interfaces, their IPv4 addresses, adding and removing
/// VIPs. Calls are synchronous request/ACK round trips to the kernel (microseconds), safe from any thread.
/// </summary>
public interface INetlinkRoute : IDisposable
{
    /// <summary>All interfaces (RTM_GETLINK dump).</summary>
    IReadOnlyList<LinkState> GetLinks();

    /// <summary>The IPv4 addresses of interface <paramref name="interfaceIndex"/> (RTM_GETADDR dump), in kernel order.</summary>
    IReadOnlyList<InterfaceAddressEntry> GetIPv4Addresses(int interfaceIndex);

    /// <summary>RTM_NEWADDR. False when the address was already there (EEXIST).</summary>
    bool AddAddress(int interfaceIndex, AddressRequest request);

    /// <summary>RTM_DELADDR. False when it was not there.</summary>
    bool RemoveAddress(int interfaceIndex, IPAddress address, int prefixLength);

    /// <summary>A socket subscribed to RTMGRP_LINK, reporting link (carrier) changes as they happen.</summary>
    ILinkWatcher WatchLinks();
}

/// <summary>Link change notifications (RTM_NEWLINK / RTM_DELLINK).</summary>
public interface ILinkWatcher : IDisposable
{
    /// <summary>Waits for the next batch of link reports.</summary>
    ValueTask<IReadOnlyList<LinkState>> ReceiveAsync(CancellationToken cancellationToken);
}

/// <summary>One interface as the kernel reports it.</summary>
/// <param name="IsUp">Administratively up and with carrier (IFF_UP and IFF_RUNNING), keepalived's test; false once deleted.</param>
/// <param name="HardwareAddress">IFLA_ADDRESS (6 bytes on Ethernet); empty when absent.</param>
public sealed record LinkState(int Index, string Name, bool IsUp, ReadOnlyMemory<byte> HardwareAddress);

/// <summary>One address of an interface (<c>ip addr</c>'s view).</summary>
/// <param name="Secondary">IFA_F_SECONDARY: another address of the same subnet came first.</param>
public sealed record InterfaceAddressEntry(IPAddress Address, int PrefixLength, string? Label, bool Secondary);

/// <summary>An address to add: what a <c>virtual_ipaddress</c> line specifies.</summary>
/// <param name="Scope">rtnetlink scope: 0 global, 200 site, 253 link, 254 host, 255 nowhere.</param>
public sealed record AddressRequest(IPAddress Address, int PrefixLength, IPAddress? Broadcast, byte Scope, string? Label);
