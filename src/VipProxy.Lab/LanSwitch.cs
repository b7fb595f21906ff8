using System.Net;

namespace VipProxy.Lab;

/// <summary>
/// One Ethernet segment: a Linux bridge alone in its own namespace, with the subnet 198.18.x.0/24 (RFC 2544
/// benchmarking space, never routed, so a test cannot collide with a real network).
/// </summary>
public sealed class LanSwitch
{
    private readonly SafeLog _log;
    private readonly List<LanInterface> _ports = [];

    internal LanSwitch(string name, string namespaceName, string bridgeName, int subnetIndex, SafeLog log)
    {
        Name = name;
        NamespaceName = namespaceName;
        BridgeName = bridgeName;
        _log = log;

        // 198.18.0.0/15 holds 512 /24 subnets: index 0–255 in 198.18, 256–511 in 198.19.
        NetworkAddress = new IPAddress([198, (byte)(18 + (subnetIndex / 256)), (byte)(subnetIndex % 256), 0]);
    }

    public string Name { get; }

    public string NamespaceName { get; }

    public string BridgeName { get; }

    public IPAddress NetworkAddress { get; }

    public int PrefixLength => 24;

    public IReadOnlyList<LanInterface> Ports => _ports;

    public bool IsMulticastBlocked { get; private set; }

    /// <summary>The address of host number <paramref name="hostNumber"/> (1–254) on this subnet.</summary>
    public IPAddress AddressOf(int hostNumber)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(hostNumber, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(hostNumber, 254);
        var bytes = NetworkAddress.GetAddressBytes();
        bytes[3] = (byte)hostNumber;
        return new IPAddress(bytes);
    }

    /// <summary>
    /// Stops the bridge from flooding multicast (VRRP adverts to 224.0.0.18) between its ports, while unicast and
    /// ARP still pass: the split-brain case. The bridge never snoops 224.0.0.x, so flooding is the only path such
    /// packets take. Ports attached later follow the current setting.
    /// </summary>
    public async Task SetMulticastBlockedAsync(bool blocked)
    {
        IsMulticastBlocked = blocked;
        foreach (var port in _ports)
        {
            await ApplyMulticastFloodingAsync(port.BridgePortName).ConfigureAwait(false);
        }
    }

    internal int NextFreeHostNumber()
    {
        var used = _ports.Select(p => (int)p.Address.GetAddressBytes()[3]).ToHashSet();
        return Enumerable.Range(1, 254).FirstOrDefault(n => !used.Contains(n)) is var free and > 0
            ? free
            : throw new InvalidOperationException($"switch {Name} has no free address left");
    }

    internal bool IsAddressTaken(IPAddress address) => _ports.Any(p => p.Address.Equals(address));

    internal void AddPort(LanInterface port) => _ports.Add(port);

    internal Task ApplyMulticastFloodingAsync(string portName) =>
        Ip.RunAsync(_log, "-n", NamespaceName, "link", "set", portName, "type", "bridge_slave",
            "mcast_flood", IsMulticastBlocked ? "off" : "on");
}
