namespace VipProxy.Vrrp.Protocol;

/// <summary>
/// The outcome of parsing and checking one received datagram: accepted (with an advert and notes for the log) or
/// dropped with a reason. Parsing never throws; every byte sequence yields a verdict.
/// </summary>
public readonly record struct VrrpVerdict
{
    private VrrpVerdict(ReceivedAdvertisement? advertisement, DropReason dropReason, AdvertisementNotes notes)
    {
        Advertisement = advertisement;
        DropReason = dropReason;
        Notes = notes;
    }

    /// <summary>The accepted advert; null when dropped.</summary>
    public ReceivedAdvertisement? Advertisement { get; }

    /// <summary>Why it was dropped; <see cref="Protocol.DropReason.None"/> when accepted.</summary>
    public DropReason DropReason { get; }

    /// <summary>Loggable oddities of an accepted advert.</summary>
    public AdvertisementNotes Notes { get; }

    /// <summary>True when the advert passed every check.</summary>
    public bool IsAccepted => Advertisement is not null;

    /// <summary>An accepted advert.</summary>
    public static VrrpVerdict Accept(ReceivedAdvertisement advertisement, AdvertisementNotes notes = AdvertisementNotes.None)
    {
        ArgumentNullException.ThrowIfNull(advertisement);
        return new VrrpVerdict(advertisement, DropReason.None, notes);
    }

    /// <summary>A dropped datagram.</summary>
    public static VrrpVerdict Drop(DropReason reason)
    {
        if (reason == DropReason.None)
        {
            throw new ArgumentOutOfRangeException(nameof(reason), "A drop needs a reason.");
        }

        return new VrrpVerdict(null, reason, AdvertisementNotes.None);
    }

    /// <inheritdoc/>
    public override string ToString() => IsAccepted ? $"Accept({Notes})" : $"Drop({DropReason})";
}
