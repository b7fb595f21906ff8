using VipProxy.Vrrp.Protocol;

namespace VipProxy.Vrrp.Tests;

public sealed class TimingTests
{
    [Theory]
    // v2 (RFC 3768 §6.1): Skew_Time = (256 - Priority) / 256 s, whatever the interval.
    [InlineData(VrrpVersion.V2, 90, 1000, 6_484_375, 36_484_375)]   // 3.6484375 s: the measured 3.65 s takeover
    [InlineData(VrrpVersion.V2, 100, 1000, 6_093_750, 36_093_750)]
    [InlineData(VrrpVersion.V2, 254, 1000, 78_125, 30_078_125)]
    [InlineData(VrrpVersion.V2, 1, 1000, 9_960_937, 39_960_937)]     // 255/256 s, truncated to whole 100 ns ticks
    [InlineData(VrrpVersion.V2, 90, 3000, 6_484_375, 96_484_375)]
    // v3 (RFC 5798 §6.1): Skew_Time = ((256 - Priority) × Master_Adver_Interval) / 256.
    [InlineData(VrrpVersion.V3, 90, 100, 648_437, 3_648_437)]        // 0.3 s + 0.0648437 s (measured 0.35-0.37 s)
    [InlineData(VrrpVersion.V3, 90, 1000, 6_484_375, 36_484_375)]
    [InlineData(VrrpVersion.V3, 100, 500, 3_046_875, 18_046_875)]
    [InlineData(VrrpVersion.V3, 255, 10, 390, 300_390)]
    public void Skew_time_and_master_down_interval(VrrpVersion version, byte priority, int intervalMs, long skewTicks, long downTicks)
    {
        var interval = TimeSpan.FromMilliseconds(intervalMs);
        Assert.Equal(TimeSpan.FromTicks(skewTicks), VrrpTiming.SkewTime(version, priority, interval));
        Assert.Equal(TimeSpan.FromTicks(downTicks), VrrpTiming.MasterDownInterval(version, priority, interval));
    }

    [Fact]
    public void Brief_examples_hold_exactly()
    {
        Assert.Equal(TimeSpan.FromSeconds(3.6484375), VrrpTiming.MasterDownInterval(VrrpVersion.V2, 90, TimeSpan.FromSeconds(1)));
        var v3 = VrrpTiming.MasterDownInterval(VrrpVersion.V3, 90, TimeSpan.FromMilliseconds(100));
        Assert.Equal(0.3 + 0.0648437, v3.TotalSeconds, 7);
    }

    [Fact]
    public void Now_converts_a_nanosecond_clock_exactly_even_for_large_timestamps()
    {
        // 200 days of uptime in ns exceeds double's 53-bit mantissa; integer conversion must not lose ticks.
        var clock = new NanosecondClock { Timestamp = (200L * 86_400 * 1_000_000_000) + 123_456_789 };
        Assert.Equal(TimeSpan.FromTicks((200L * 86_400 * 10_000_000) + 1_234_567), VrrpTiming.Now(clock));
    }

    [Fact]
    public void Delay_until_is_never_negative()
    {
        var clock = new NanosecondClock { Timestamp = 5_000_000_000 };
        Assert.Equal(TimeSpan.FromSeconds(2), VrrpTiming.DelayUntil(clock, TimeSpan.FromSeconds(7)));
        Assert.Equal(TimeSpan.Zero, VrrpTiming.DelayUntil(clock, TimeSpan.FromSeconds(1)));
    }

    private sealed class NanosecondClock : TimeProvider
    {
        public long Timestamp { get; set; }

        public override long TimestampFrequency => 1_000_000_000;

        public override long GetTimestamp() => Timestamp;
    }
}
