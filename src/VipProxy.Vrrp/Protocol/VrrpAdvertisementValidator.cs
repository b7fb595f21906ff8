using System.Security.Cryptography;

namespace VipProxy.Vrrp.Protocol;

/// <summary>
/// The per-instance receive checks of RFC 3768 §7.1 / RFC 5798 §7.1, with keepalived's choices where they differ.
/// Runs on a structurally valid advert from <see cref="VrrpCodec.Decode"/>.
/// </summary>
public static class VrrpAdvertisementValidator
{
    /// <summary>Checks <paramref name="advertisement"/> against the receiving instance.</summary>
    public static VrrpVerdict Validate(ReceivedAdvertisement advertisement, VrrpInstanceOptions options)
    {
        ArgumentNullException.ThrowIfNull(advertisement);
        ArgumentNullException.ThrowIfNull(options);
        var packet = advertisement.Packet;

        // VRID first: on a shared link most adverts belong to other virtual routers, and those are "not ours" rather
        // than errors, so they must not inflate the error counters below (RFC 5798 §7.1 "VRID is configured").
        if (packet.VirtualRouterId != options.VirtualRouterId)
        {
            return VrrpVerdict.Drop(DropReason.WrongVirtualRouterId);
        }

        // RFC 3768 §7.1 / RFC 5798 §7.1: version must be ours (keepalived never mixes v2 and v3 on one instance).
        if (packet.Version != options.Version)
        {
            return VrrpVerdict.Drop(DropReason.WrongVersion);
        }

        // RFC 5798 §7.1: TTL 255 proves the sender is on-link (routers decrement it).
        if (options.CheckTtl && advertisement.TimeToLive != 255)
        {
            return VrrpVerdict.Drop(DropReason.TtlNot255);
        }

        uint source = IPv4Address.ToUInt32(advertisement.Source);
        if (source == IPv4Address.ToUInt32(options.PrimaryAddress))
        {
            return VrrpVerdict.Drop(DropReason.FromOwnAddress);
        }

        if (options.UnicastPeers.Count > 0 && options.CheckUnicastSource && !IPv4Address.Contains(options.UnicastPeers, source))
        {
            return VrrpVerdict.Drop(DropReason.SourceNotUnicastPeer);
        }

        if (packet.Version == VrrpVersion.V2)
        {
            // RFC 3768 §7.1: "MUST verify that the Auth Type matches the locally configured authentication method".
            if (packet.AuthType != options.AuthType)
            {
                return VrrpVerdict.Drop(DropReason.AuthTypeMismatch);
            }

            // keepalived compares all 8 bytes; constant time costs nothing here.
            if (packet.AuthType == VrrpAuthType.SimplePassword
                && !CryptographicOperations.FixedTimeEquals(packet.AuthData.AsSpan(), options.AuthPasswordBytes.Span))
            {
                return VrrpVerdict.Drop(DropReason.AuthPasswordMismatch);
            }

            // RFC 3768 §7.1: "MUST verify that the Adver Interval ... is the same as the locally configured" and discard
            // otherwise; keepalived drops too.
            if (packet.AdvertisementInterval != options.AdvertisementInterval)
            {
                return VrrpVerdict.Drop(DropReason.AdvertIntervalMismatch);
            }
        }

        var notes = AdvertisementNotes.None;
        if (packet.Version == VrrpVersion.V3)
        {
            // A zero interval cannot be adopted (RFC 5798 §6.4.2): Master_Down_Interval would shrink to Skew_Time.
            if (packet.AdvertisementInterval == TimeSpan.Zero)
            {
                return VrrpVerdict.Drop(DropReason.AdvertIntervalMismatch);
            }

            // Otherwise v3 only logs: the backup adopts the master's interval.
            if (packet.AdvertisementInterval != options.AdvertisementInterval)
            {
                notes |= AdvertisementNotes.AdvertIntervalMismatch;
            }
        }

        if (!SameAddressSet(packet, options))
        {
            notes |= AdvertisementNotes.VirtualAddressMismatch;
        }

        return VrrpVerdict.Accept(advertisement, notes);
    }

    private static bool SameAddressSet(VrrpPacket packet, VrrpInstanceOptions options)
    {
        var advertised = packet.Addresses;
        if (advertised.Length != options.VirtualAddresses.Count)
        {
            return false;
        }

        // Order-insensitive, as keepalived checks each configured address is present. Both directions, so duplicates
        // in the advert cannot hide a missing address.
        foreach (var address in advertised)
        {
            if (!IPv4Address.Contains(options.VirtualAddresses, IPv4Address.ToUInt32(address)))
            {
                return false;
            }
        }

        foreach (var address in options.VirtualAddresses)
        {
            if (!IPv4Address.Contains(advertised, IPv4Address.ToUInt32(address)))
            {
                return false;
            }
        }

        return true;
    }
}
