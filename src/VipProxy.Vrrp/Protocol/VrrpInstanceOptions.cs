using System.Net;

namespace VipProxy.Vrrp.Protocol;

/// <summary>
/// Everything the codec checks and the state machine decides with, for one <c>vrrp_instance</c>. Defaults are
/// keepalived 2.2.7's. The config binder fills this; <see cref="Validate"/> reports what keepalived would refuse.
/// </summary>
public sealed record VrrpInstanceOptions
{
    /// <summary>keepalived accepts at most 1000 s of <c>preempt_delay</c>.</summary>
    public static readonly TimeSpan MaxPreemptDelay = TimeSpan.FromSeconds(1000);

    private readonly string? _authPassword;
    private readonly byte[] _authPasswordBytes = VrrpAuthenticationData.NormalizePassword(null);

    /// <summary>Instance name, for logs and the notify script's second argument.</summary>
    public string Name { get; init; } = "VI_1";

    /// <summary><c>vrrp_version</c>; keepalived defaults to 2.</summary>
    public VrrpVersion Version { get; init; } = VrrpVersion.V2;

    /// <summary><c>virtual_router_id</c>, 1–255.</summary>
    public required byte VirtualRouterId { get; init; }

    /// <summary><c>priority</c>, 1–255 (default 100). 255 makes this router the address owner (RFC 5798 §6.4.1).</summary>
    public byte Priority { get; init; } = 100;

    /// <summary><c>advert_int</c>: v2 whole seconds 1–255, v3 10 ms steps from 10 ms to 40.95 s. Default 1 s.</summary>
    public TimeSpan AdvertisementInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Our primary IPv4 address on the interface (or <c>unicast_src_ip</c>): the advert source, the v3 pseudo-header
    /// source and our side of the equal-priority tie-break.
    /// </summary>
    public required IPAddress PrimaryAddress { get; init; }

    /// <summary><c>virtual_ipaddress</c>: advertised, and added/removed with mastership.</summary>
    public IReadOnlyList<IPAddress> VirtualAddresses { get; init; } = [];

    /// <summary>
    /// <c>virtual_ipaddress_excluded</c>: added and removed with mastership like <see cref="VirtualAddresses"/>, but
    /// never advertised (keepalived holds them even when the advertised list is empty).
    /// </summary>
    public IReadOnlyList<IPAddress> ExcludedAddresses { get; init; } = [];

    /// <summary>
    /// Every address a master holds: the advertised ones, then the excluded ones, each once. The address actions
    /// carry this list, so they are the complete order.
    /// </summary>
    public IReadOnlyList<IPAddress> HeldAddresses => [.. VirtualAddresses.Concat(ExcludedAddresses).Distinct()];

    /// <summary>False for <c>nopreempt</c>: a backup then accepts any advert and never takes over from a live master.</summary>
    public bool Preempt { get; init; } = true;

    /// <summary><c>preempt_delay</c>: after startup, or after first hearing a lower-priority master, wait this long before preempting it.</summary>
    public TimeSpan PreemptDelay { get; init; } = TimeSpan.Zero;

    /// <summary><c>auth_type</c> (v2 only).</summary>
    public VrrpAuthType AuthType { get; init; } = VrrpAuthType.None;

    /// <summary><c>auth_pass</c> (v2 PASS only); only its first 8 bytes count.</summary>
    public string? AuthPassword
    {
        get => _authPassword;
        init
        {
            _authPassword = value;
            _authPasswordBytes = VrrpAuthenticationData.NormalizePassword(value);
        }
    }

    /// <summary>The 8 wire bytes of <see cref="AuthPassword"/>, NUL-padded.</summary>
    public ReadOnlyMemory<byte> AuthPasswordBytes => _authPasswordBytes;

    /// <summary><c>unicast_peer</c>: empty means multicast to 224.0.0.18.</summary>
    public IReadOnlyList<IPAddress> UnicastPeers { get; init; } = [];

    /// <summary>Drop adverts whose TTL is not 255 (RFC 5798 §7.1). keepalived always checks for multicast.</summary>
    public bool CheckTtl { get; init; } = true;

    /// <summary>
    /// With unicast peers, drop adverts from any other source. keepalived makes this opt-in
    /// (<c>vrrp_check_unicast_src</c>); VipProxy defaults to checking, since accepting a stranger's advert in
    /// unicast mode can only do harm.
    /// </summary>
    public bool CheckUnicastSource { get; init; } = true;

    /// <summary><c>garp_master_repeat</c>: gratuitous ARPs per address in each burst (default 5).</summary>
    public int GarpMasterRepeat { get; init; } = 5;

    /// <summary><c>garp_master_delay</c>: delay of the second burst after becoming master (default 5 s; 0 = none).</summary>
    public TimeSpan GarpMasterDelay { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary><c>garp_master_refresh</c>: period of refresh bursts while master (default 0 = off).</summary>
    public TimeSpan GarpMasterRefresh { get; init; } = TimeSpan.Zero;

    /// <summary><c>garp_master_refresh_repeat</c>: gratuitous ARPs per address in each refresh (default 1).</summary>
    public int GarpMasterRefreshRepeat { get; init; } = 1;

    /// <summary><c>garp_interval</c>: spacing between gratuitous ARPs within a burst (default 0).</summary>
    public TimeSpan GarpInterval { get; init; } = TimeSpan.Zero;

    /// <summary>
    /// <c>garp_lower_prio_repeat</c>: gratuitous ARPs per address that a master sends when it hears a lower-priority
    /// advert (another router that also believes it is master: a healed split brain). keepalived's default is
    /// <c>garp_master_repeat</c>, which null stands for; 0 turns the re-announcement off.
    /// </summary>
    public int? GarpLowerPriorityRepeat { get; init; }

    /// <summary>
    /// <c>garp_lower_prio_delay</c>: delay of the second such burst. keepalived's default is <c>garp_master_delay</c>,
    /// which null stands for; 0 means no second burst.
    /// </summary>
    public TimeSpan? GarpLowerPriorityDelay { get; init; }

    /// <summary><see cref="GarpLowerPriorityRepeat"/> with keepalived's fallback applied.</summary>
    public int EffectiveGarpLowerPriorityRepeat => GarpLowerPriorityRepeat ?? GarpMasterRepeat;

    /// <summary><see cref="GarpLowerPriorityDelay"/> with keepalived's fallback applied.</summary>
    public TimeSpan EffectiveGarpLowerPriorityDelay => GarpLowerPriorityDelay ?? GarpMasterDelay;

    /// <summary>
    /// keepalived <c>higher_prio_send_advert</c>: a master that hears a higher priority sends one advert at its own
    /// priority before it steps down, so that the winner hears a lower priority and re-announces the VIPs by
    /// gratuitous ARP (<see cref="GarpLowerPriorityRepeat"/>). keepalived defaults to off; VipProxy defaults to on,
    /// because without it a healed split brain ends with the hosts' ARP caches on the loser half of the time: if
    /// the winner's advert happens to arrive first, the loser steps down silently, the winner never hears a lower
    /// priority, and the last gratuitous ARP the hosts saw is the loser's. The extra advert is harmless to peers.
    /// </summary>
    public bool HigherPrioritySendAdvert { get; init; } = true;

    /// <summary>True when this router owns the virtual addresses (priority 255).</summary>
    public bool IsAddressOwner => Priority == VrrpPacket.PriorityOwner;

    /// <summary>Problems that make the options unusable; empty when valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (VirtualRouterId == 0)
        {
            errors.Add("virtual_router_id must be 1-255.");
        }

        if (Priority == 0)
        {
            errors.Add("priority must be 1-255.");
        }

        ValidateInterval(errors);

        if (!IPv4Address.IsIPv4(PrimaryAddress))
        {
            errors.Add("The primary address must be IPv4.");
        }

        if (VirtualAddresses is null || VirtualAddresses.Any(a => !IPv4Address.IsIPv4(a)))
        {
            errors.Add("Every virtual address must be IPv4.");
        }
        else if (VirtualAddresses.Count > byte.MaxValue)
        {
            errors.Add("At most 255 virtual addresses fit the 8-bit count field.");
        }

        if (ExcludedAddresses is null || ExcludedAddresses.Any(a => !IPv4Address.IsIPv4(a)))
        {
            errors.Add("Every excluded virtual address must be IPv4.");
        }

        if (UnicastPeers is null || UnicastPeers.Any(a => !IPv4Address.IsIPv4(a)))
        {
            errors.Add("Every unicast peer must be IPv4.");
        }

        if (Version == VrrpVersion.V3 && AuthType != VrrpAuthType.None)
        {
            errors.Add("VRRPv3 has no authentication (RFC 5798 §9).");
        }

        if (AuthType == VrrpAuthType.IPAuthenticationHeader)
        {
            errors.Add("auth_type AH is not supported.");
        }

        if (AuthType == VrrpAuthType.SimplePassword && string.IsNullOrEmpty(AuthPassword))
        {
            errors.Add("auth_type PASS needs auth_pass.");
        }

        if (PreemptDelay < TimeSpan.Zero || PreemptDelay > MaxPreemptDelay)
        {
            errors.Add("preempt_delay must be 0-1000 s.");
        }

        if (GarpMasterRepeat < 0 || GarpMasterRefreshRepeat < 0 || GarpLowerPriorityRepeat < 0)
        {
            errors.Add("Gratuitous ARP repeat counts cannot be negative.");
        }

        if (GarpMasterDelay < TimeSpan.Zero || GarpMasterRefresh < TimeSpan.Zero || GarpInterval < TimeSpan.Zero
            || GarpLowerPriorityDelay < TimeSpan.Zero)
        {
            errors.Add("Gratuitous ARP delays cannot be negative.");
        }

        return errors;
    }

    /// <summary>Throws <see cref="ArgumentException"/> listing every problem when the options are invalid.</summary>
    public void EnsureValid()
    {
        var errors = Validate();
        if (errors.Count > 0)
        {
            throw new ArgumentException($"VRRP instance '{Name}': " + string.Join(" ", errors));
        }
    }

    private void ValidateInterval(List<string> errors)
    {
        if (Version == VrrpVersion.V2)
        {
            // RFC 3768 §5.3.7: 8-bit whole seconds.
            if (AdvertisementInterval < TimeSpan.FromSeconds(1) || AdvertisementInterval > TimeSpan.FromSeconds(255)
                || AdvertisementInterval.Ticks % TimeSpan.TicksPerSecond != 0)
            {
                errors.Add("VRRPv2 advert_int must be whole seconds, 1-255.");
            }
        }
        else if (Version == VrrpVersion.V3)
        {
            // RFC 5798 §5.2.7: 12-bit centiseconds.
            if (AdvertisementInterval < VrrpTiming.Centisecond || AdvertisementInterval > VrrpTiming.Centisecond * 4095
                || AdvertisementInterval.Ticks % VrrpTiming.Centisecond.Ticks != 0)
            {
                errors.Add("VRRPv3 advert_int must be 0.01-40.95 s in 10 ms steps.");
            }
        }
        else
        {
            errors.Add("vrrp_version must be 2 or 3.");
        }
    }
}
