using System.Globalization;
using System.Net;
using VipProxy.Config.Model;
using VipProxy.Vrrp.Linux;
using VipProxy.Vrrp.Protocol;

namespace VipProxy.Vrrp.Runtime;

/// <summary>From the config model (<see cref="VrrpInstance"/> with <see cref="GlobalDefinitions"/>) to the core's options.</summary>
public static class OptionsMapper
{
    /// <summary>
    /// Builds the options of <paramref name="instance"/>. <paramref name="primaryAddress"/> is <c>unicast_src_ip</c>
    /// or the interface's primary IPv4 address, resolved by the caller.
    /// </summary>
    public static VrrpInstanceOptions Map(VrrpInstance instance, GlobalDefinitions global, IPAddress primaryAddress)
    {
        ArgumentNullException.ThrowIfNull(instance);
        ArgumentNullException.ThrowIfNull(global);
        ArgumentNullException.ThrowIfNull(primaryAddress);
        int version = instance.Version is 2 or 3 ? instance.Version : global.VrrpVersion;
        bool unicast = instance.UnicastPeers.Count > 0;
        return new VrrpInstanceOptions
        {
            Name = instance.Name,
            Version = (VrrpVersion)version,
            VirtualRouterId = checked((byte)instance.VirtualRouterId),
            Priority = checked((byte)instance.Priority),
            AdvertisementInterval = instance.AdvertInterval,
            PrimaryAddress = primaryAddress,

            // Advertised: virtual_ipaddress only; virtual_ipaddress_excluded is added with mastership but never sent.
            VirtualAddresses = [.. instance.VirtualIpAddresses.Select(v => v.Address)],
            ExcludedAddresses = [.. instance.ExcludedVirtualIpAddresses.Select(v => v.Address)],

            // keepalived: nopreempt only with state BACKUP; `state MASTER` + nopreempt is cleared with a warning.
            Preempt = instance.Preempt || instance.InitialState == VrrpInitialState.Master,
            PreemptDelay = instance.PreemptDelay,
            AuthType = instance.Authentication is null ? VrrpAuthType.None : VrrpAuthType.SimplePassword,
            AuthPassword = instance.Authentication?.Password,
            UnicastPeers = [.. instance.UnicastPeers],

            // keepalived checks TTL 255 only for multicast: unicast peers may sit behind a router (clouds).
            CheckTtl = !unicast,
            GarpMasterRepeat = instance.Garp.MasterRepeat,
            GarpMasterDelay = instance.Garp.MasterDelay,
            GarpMasterRefresh = instance.Garp.MasterRefresh,
            GarpMasterRefreshRepeat = instance.Garp.MasterRefreshRepeat,
            GarpInterval = instance.Garp.Interval,
            GarpLowerPriorityDelay = instance.Garp.LowerPriorityDelay,
            GarpLowerPriorityRepeat = instance.Garp.LowerPriorityRepeat,
        };
    }

    /// <summary>The netlink request for one <c>virtual_ipaddress</c> line.</summary>
    public static AddressRequest ToAddressRequest(VirtualIpAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        return new AddressRequest(address.Address, address.PrefixLength, address.Broadcast, ParseScope(address.Scope), address.Label);
    }

    /// <summary><c>ip addr</c> scope names (/etc/iproute2/rt_scopes) or a number.</summary>
    public static byte ParseScope(string? scope) => scope?.ToUpperInvariant() switch
    {
        null or "" or "GLOBAL" or "UNIVERSE" => 0,
        "SITE" => 200,
        "LINK" => 253,
        "HOST" => 254,
        "NOWHERE" => 255,
        _ => byte.TryParse(scope, NumberStyles.None, CultureInfo.InvariantCulture, out var value) ? value : (byte)0,
    };
}
