using System.Net;

namespace VipProxy.Lab;

/// <summary>Where a link is cut.</summary>
public enum LinkCut
{
    /// <summary>The switch-side end goes down: the host sees carrier loss, as with a pulled cable.</summary>
    Cable,

    /// <summary>The host's own interface is set administratively down, as `ip link set dev X down` on the host.</summary>
    HostAdminDown,
}

/// <summary>A host's interface on one switch: a veth whose peer is a port of the switch's bridge.</summary>
public sealed class LanInterface
{
    private readonly SafeLog _log;

    internal LanInterface(LanHost host, LanSwitch lanSwitch, string name, string bridgePortName, IPAddress address,
        SafeLog log)
    {
        Host = host;
        Switch = lanSwitch;
        Name = name;
        BridgePortName = bridgePortName;
        Address = address;
        _log = log;
    }

    public LanHost Host { get; }

    public LanSwitch Switch { get; }

    /// <summary>The interface name inside the host (what a keepalived.conf names as `interface`).</summary>
    public string Name { get; }

    /// <summary>The peer's name inside the switch's namespace.</summary>
    public string BridgePortName { get; }

    public IPAddress Address { get; }

    public int PrefixLength => Switch.PrefixLength;

    public Task CutLinkAsync(LinkCut cut = LinkCut.Cable) => cut == LinkCut.Cable
        ? Ip.RunAsync(_log, "-n", Switch.NamespaceName, "link", "set", BridgePortName, "down")
        : Ip.RunAsync(_log, "-n", Host.NamespaceName, "link", "set", Name, "down");

    /// <summary>Brings both ends up and waits until the host sees the link up.</summary>
    public async Task RestoreLinkAsync()
    {
        await Ip.RunAsync(_log, "-n", Switch.NamespaceName, "link", "set", BridgePortName, "up").ConfigureAwait(false);
        await Ip.RunAsync(_log, "-n", Host.NamespaceName, "link", "set", Name, "up").ConfigureAwait(false);
        await WaitUntilUpAsync().ConfigureAwait(false);
    }

    public Task<IReadOnlyList<InterfaceAddress>> GetIPv4AddressesAsync() => Host.GetIPv4AddressesAsync(Name);

    /// <summary>The kernel's operational state of the host side ("UP", "DOWN", "LOWERLAYERDOWN"…).</summary>
    public async Task<string> GetOperationalStateAsync()
    {
        var json = await Ip.QueryAsync(_log, "-n", Host.NamespaceName, "-j", "link", "show", "dev", Name)
            .ConfigureAwait(false);
        return IpJson.OperationalState(json.StandardOutput);
    }

    /// <summary>A veth reports UP a moment after both ends are set up; traffic sent before that is lost.</summary>
    internal async Task WaitUntilUpAsync()
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        string state;
        while ((state = await GetOperationalStateAsync().ConfigureAwait(false)) != "UP")
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"{Host.Name}/{Name} stayed {state}");
            }

            await Task.Delay(10).ConfigureAwait(false);
        }
    }
}
