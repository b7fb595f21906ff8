namespace VipProxy.Vrrp.Protocol;

/// <summary>
/// VRRP timer arithmetic and the one clock the core uses.
/// <para>
/// Time convention: every deadline is a <see cref="TimeSpan"/> reading of the <see cref="TimeProvider"/>'s
/// monotonic timestamp (<see cref="TimeProvider.GetTimestamp"/> converted exactly to 100 ns ticks by
/// <see cref="Now"/>). It is not wall-clock time, so an NTP step neither fires nor stalls a timer. A driver arms a
/// real timer for <c>deadline - VrrpTiming.Now(provider)</c> and, when it fires, hands the same deadline back.
/// </para>
/// </summary>
public static class VrrpTiming
{
    /// <summary>The VRRPv3 interval unit (RFC 5798 §5.2.7).</summary>
    public static readonly TimeSpan Centisecond = TimeSpan.FromMilliseconds(10);

    /// <summary>The provider's monotonic clock as a <see cref="TimeSpan"/>, converted without floating point.</summary>
    public static TimeSpan Now(TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(timeProvider);
        long timestamp = timeProvider.GetTimestamp();
        long frequency = timeProvider.TimestampFrequency;

        // TimeProvider.GetElapsedTime goes through a double and loses ticks on large timestamps; do it in integers.
        return frequency == TimeSpan.TicksPerSecond
            ? new TimeSpan(timestamp)
            : new TimeSpan((long)((Int128)timestamp * TimeSpan.TicksPerSecond / frequency));
    }

    /// <summary>How long from now until <paramref name="deadline"/>, never negative.</summary>
    public static TimeSpan DelayUntil(TimeProvider timeProvider, TimeSpan deadline)
    {
        var delay = deadline - Now(timeProvider);
        return delay < TimeSpan.Zero ? TimeSpan.Zero : delay;
    }

    /// <summary>
    /// Skew_Time, which makes higher-priority backups time out first.
    /// v2 (RFC 3768 §6.1): (256 − Priority) / 256 seconds, independent of the interval.
    /// v3 (RFC 5798 §6.1): ((256 − Priority) × Master_Adver_Interval) / 256.
    /// Computed in 100 ns ticks (keepalived uses microseconds; the difference is below 1 µs), so v2 priority 90
    /// gives exactly 0.6484375 s.
    /// </summary>
    public static TimeSpan SkewTime(VrrpVersion version, byte priority, TimeSpan masterAdvertisementInterval)
    {
        long weight = 256 - priority;
        return version == VrrpVersion.V2
            ? new TimeSpan(weight * TimeSpan.TicksPerSecond / 256)
            : new TimeSpan(weight * masterAdvertisementInterval.Ticks / 256);
    }

    /// <summary>
    /// Master_Down_Interval = 3 × Master_Adver_Interval + Skew_Time (RFC 3768 §6.1, RFC 5798 §6.1): how long a
    /// backup waits without hearing an acceptable advert before declaring the master dead.
    /// </summary>
    public static TimeSpan MasterDownInterval(VrrpVersion version, byte priority, TimeSpan masterAdvertisementInterval) =>
        (3 * masterAdvertisementInterval) + SkewTime(version, priority, masterAdvertisementInterval);
}
