using System.Net;

namespace VipProxy.Config.Model;

public enum VrrpInitialState
{
    /// <summary><c>state BACKUP</c> (default).</summary>
    Backup,
    /// <summary>
    /// <c>state MASTER</c>: as in keepalived it still starts as Backup and waits Master_Down_Interval,
    /// unless its priority is 255 (RFC 5798 §6.4.1: only the address owner goes straight to Master).
    /// </summary>
    Master,
}

/// <summary><c>vrrp_instance NAME { … }</c>: one virtual router.</summary>
/// <param name="InitialState"><c>state MASTER|BACKUP</c>. Default BACKUP.</param>
/// <param name="Interface"><c>interface IF</c> (required): where adverts are sent and VIPs are added.</param>
/// <param name="VirtualRouterId"><c>virtual_router_id 1-255</c> (required).</param>
/// <param name="Priority"><c>priority 1-255</c>. Default 100. 255 means address owner.</param>
/// <param name="AdvertInterval"><c>advert_int SECS</c>. Default 1 s. Whole seconds for VRRPv2; 0.01–40.95 s in 10 ms steps for v3.</param>
/// <param name="Version"><c>version 2|3</c>. Default: global <c>vrrp_version</c> (2).</param>
/// <param name="Authentication"><c>authentication { auth_type PASS; auth_pass SECRET }</c>, VRRPv2 only. Default: none.</param>
/// <param name="VirtualIpAddresses"><c>virtual_ipaddress { … }</c>: carried in adverts and added on becoming master.</param>
/// <param name="ExcludedVirtualIpAddresses"><c>virtual_ipaddress_excluded { … }</c>: added on becoming master, not advertised.</param>
/// <param name="Preempt">False with <c>nopreempt</c> (needs <c>state BACKUP</c>). Default: preempt.</param>
/// <param name="PreemptDelay"><c>preempt_delay SECS</c> (0–1000): after start-up, wait this long before preempting. Default 0.</param>
/// <param name="UnicastSourceIp"><c>unicast_src_ip ADDR</c>: source address for unicast adverts. Default: the interface's primary address.</param>
/// <param name="UnicastPeers"><c>unicast_peer { ADDR … }</c>: send adverts to these peers instead of multicast, and accept only them.</param>
/// <param name="TrackInterfaces"><c>track_interface { IF [weight N] }</c>: link down ⇒ Fault (weight 0) or priority change.</param>
/// <param name="TrackScripts"><c>track_script { NAME [weight N] }</c>: <c>vrrp_script</c>s that track this instance.</param>
/// <param name="Notify">The <c>notify_*</c> scripts.</param>
/// <param name="Garp">Gratuitous ARP after becoming master: <c>garp_master_*</c>, defaulting to global <c>vrrp_garp_*</c>.</param>
/// <param name="DontTrackPrimary"><c>dont_track_primary</c>: ignore the link state of <c>interface</c>. Default: track it.</param>
/// <param name="TrackVirtualServers">
/// VipProxy: while on (the default), this node leaves Master (Fault) when a virtual server listening on one
/// of this instance's VIPs loses its quorum of healthy real servers, so the VIP follows a working forwarder.
/// <c>dont_track_virtual_servers</c> turns it off.
/// </param>
public sealed record VrrpInstance(
    string Name,
    VrrpInitialState InitialState,
    string Interface,
    int VirtualRouterId,
    int Priority,
    TimeSpan AdvertInterval,
    int Version,
    VrrpAuthentication? Authentication,
    ValueList<VirtualIpAddress> VirtualIpAddresses,
    ValueList<VirtualIpAddress> ExcludedVirtualIpAddresses,
    bool Preempt,
    TimeSpan PreemptDelay,
    IPAddress? UnicastSourceIp,
    ValueList<IPAddress> UnicastPeers,
    ValueList<TrackedInterface> TrackInterfaces,
    ValueList<TrackedScript> TrackScripts,
    NotifyScripts Notify,
    GarpSettings Garp,
    bool DontTrackPrimary,
    bool TrackVirtualServers)
{
    /// <summary>Every address this instance adds on becoming master.</summary>
    public IEnumerable<VirtualIpAddress> AllVirtualIpAddresses() => VirtualIpAddresses.Concat(ExcludedVirtualIpAddresses);
}

/// <summary>VRRPv2 simple-text authentication (RFC 2338 §5.3.6.1; removed in RFC 3768 but still used by keepalived).</summary>
/// <param name="Password">At most 8 bytes; shorter passwords are NUL-padded on the wire.</param>
public sealed record VrrpAuthentication(string Password);

/// <summary>One <c>virtual_ipaddress</c> line: <c>ADDR[/PREFIX] [brd ADDR] [dev IF] [scope SCOPE] [label LABEL]</c>.</summary>
/// <param name="PrefixLength">Default 32, as keepalived.</param>
/// <param name="Device">Default: the instance's <c>interface</c>.</param>
/// <param name="Scope">Default: global.</param>
public sealed record VirtualIpAddress(
    IPAddress Address,
    int PrefixLength,
    IPAddress? Broadcast,
    string? Device,
    string Scope,
    string? Label)
{
    public override string ToString()
    {
        var text = $"{Address}/{PrefixLength}";
        if (Broadcast is not null)
        {
            text += $" brd {Broadcast}";
        }

        if (Device is not null)
        {
            text += $" dev {Device}";
        }

        if (Scope != "global")
        {
            text += $" scope {Scope}";
        }

        if (Label is not null)
        {
            text += $" label {Label}";
        }

        return text;
    }
}

/// <summary>An interface in <c>track_interface</c>. Weight 0 (default): link down ⇒ Fault.</summary>
public sealed record TrackedInterface(string Name, int Weight);

/// <summary>A <c>vrrp_script</c> named in <c>track_script</c>. Null weight: the script's own weight.</summary>
public sealed record TrackedScript(string Name, int? Weight);

/// <summary>Scripts run on state changes. <c>notify</c> gets keepalived's four arguments: "INSTANCE" NAME STATE PRIORITY.</summary>
public sealed record NotifyScripts(
    ScriptCommand? Master,
    ScriptCommand? Backup,
    ScriptCommand? Fault,
    ScriptCommand? Stop,
    ScriptCommand? Any)
{
    public static NotifyScripts None { get; } = new(null, null, null, null, null);
}
