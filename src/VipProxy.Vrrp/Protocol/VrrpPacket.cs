using System.Collections.Immutable;
using System.Net;

namespace VipProxy.Vrrp.Protocol;

/// <summary>
/// One VRRP ADVERTISEMENT message (the IP payload), version-neutral. Layouts: RFC 3768 §5.1 (v2) and RFC 5798 §5.1 (v3).
/// </summary>
public sealed record VrrpPacket
{
    /// <summary>The VRRP type for ADVERTISEMENT, the only type defined (RFC 3768 §5.3.2, RFC 5798 §5.2.2).</summary>
    public const byte AdvertisementType = 1;

    /// <summary>IP protocol number assigned to VRRP (RFC 5798 §5.1.1.4).</summary>
    public const byte IPProtocolNumber = 112;

    /// <summary>Priority 0: the current master is stopping and a backup should take over after Skew_Time (RFC 5798 §5.2.4).</summary>
    public const byte PriorityStop = 0;

    /// <summary>Priority 255: the router owns the virtual addresses (RFC 5798 §5.2.4).</summary>
    public const byte PriorityOwner = 255;

    /// <summary>The fixed part of both header versions: version/type, VRID, priority, count, two bytes, checksum.</summary>
    public const int FixedHeaderLength = 8;

    /// <summary>Protocol version.</summary>
    public required VrrpVersion Version { get; init; }

    /// <summary>Virtual Router Identifier, 1–255 (RFC 5798 §5.2.3).</summary>
    public required byte VirtualRouterId { get; init; }

    /// <summary>Sender's priority; 0 means "stopping", 255 "address owner".</summary>
    public required byte Priority { get; init; }

    /// <summary>
    /// Advertisement interval: whole seconds in v2 (8-bit "Adver Int", RFC 3768 §5.3.7), centiseconds in v3 (12-bit
    /// "Max Adver Int", RFC 5798 §5.2.7). The encoder refuses values the version cannot carry exactly.
    /// </summary>
    public required TimeSpan AdvertisementInterval { get; init; }

    /// <summary>The IPv4 virtual addresses; their number is the "Count IPvX Addr" field.</summary>
    public required ImmutableArray<IPAddress> Addresses { get; init; }

    /// <summary>v2 only: the auth type. Always <see cref="VrrpAuthType.None"/> for v3.</summary>
    public VrrpAuthType AuthType { get; init; }

    /// <summary>
    /// v2 only: the 8 "Authentication Data" bytes exactly as on the wire (for <see cref="VrrpAuthType.None"/> they are
    /// sent as zero). Default or shorter arrays are written NUL-padded. Empty for v3.
    /// </summary>
    public ImmutableArray<byte> AuthData { get; init; } = [];

    /// <summary>Builds the advert an instance with <paramref name="options"/> sends at <paramref name="priority"/>.</summary>
    public static VrrpPacket ForInstance(VrrpInstanceOptions options, byte priority)
    {
        ArgumentNullException.ThrowIfNull(options);
        bool v2 = options.Version == VrrpVersion.V2;
        return new VrrpPacket
        {
            Version = options.Version,
            VirtualRouterId = options.VirtualRouterId,
            Priority = priority,
            AdvertisementInterval = options.AdvertisementInterval,
            Addresses = [.. options.VirtualAddresses],
            AuthType = v2 ? options.AuthType : VrrpAuthType.None,
            AuthData = v2 && options.AuthType == VrrpAuthType.SimplePassword
                ? ImmutableArray.Create(options.AuthPasswordBytes.Span)
                : [],
        };
    }
}
