using System.Net;
using Microsoft.Extensions.Time.Testing;
using VipProxy.Forwarding.Admission;
using VipProxy.Forwarding.Tests.Support;
using Xunit.Abstractions;

namespace VipProxy.Forwarding.Tests.Admission;

/// <summary>The per-source admission table on a fake clock: sc_conn_cur / sc_conn_rate semantics, expiry, bound.</summary>
public class SourceAdmissionTableTests
{
    private static readonly IPAddress A = IPAddress.Parse("198.18.0.10");
    private static readonly IPAddress B = IPAddress.Parse("198.18.0.11");

    [Fact]
    public void Concurrent_limit_counts_open_connections_per_source()
    {
        var table = new SourceAdmissionTable(new FakeTimeProvider());
        var limits = new SourceLimits(2, 0, TimeSpan.Zero);

        Assert.Equal(SourceVerdict.Admitted, table.TryAdmit(A, limits, out SourceLease first));
        Assert.Equal(SourceVerdict.Admitted, table.TryAdmit(A, limits, out SourceLease second));
        Assert.Equal(SourceVerdict.TooManyConnections, table.TryAdmit(A, limits, out SourceLease refused));
        Assert.False(refused.IsTracked);

        // Another source has its own count; the IPv4-mapped form of A is the same source.
        Assert.Equal(SourceVerdict.Admitted, table.TryAdmit(B, limits, out SourceLease other));
        Assert.Equal(SourceVerdict.TooManyConnections, table.TryAdmit(A.MapToIPv6(), limits, out _));

        table.Release(first);
        Assert.Equal(SourceVerdict.Admitted, table.TryAdmit(A, limits, out SourceLease third));
        Assert.Equal(2, table.Inspect(A)!.Value.Open);

        table.Release(second);
        table.Release(third);
        table.Release(other);

        // Without a rate limit an entry goes with its last connection.
        Assert.Equal(0, table.Count);
    }

    [Fact]
    public void Rate_limit_refuses_beyond_n_per_period_and_counts_refused_attempts()
    {
        var time = new FakeTimeProvider();
        var table = new SourceAdmissionTable(time);
        var limits = new SourceLimits(0, 3, TimeSpan.FromSeconds(10));

        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(SourceVerdict.Admitted, table.TryAdmit(A, limits, out SourceLease lease));
            table.Release(lease);
        }

        Assert.Equal(SourceVerdict.RateExceeded, table.TryAdmit(A, limits, out _));
        Assert.Equal(SourceVerdict.Admitted, table.TryAdmit(B, limits, out _));

        // Still inside the period: refused, and each refused attempt counts too (5 attempts so far).
        time.Advance(TimeSpan.FromSeconds(9));
        Assert.Equal(SourceVerdict.RateExceeded, table.TryAdmit(A, limits, out _));
        Assert.Equal(5, table.Inspect(A)!.Value.Rate);

        // Next period, 1 s in: previous period (5) weighs 9/10 = 4.5, over 3.
        time.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(SourceVerdict.RateExceeded, table.TryAdmit(A, limits, out _));

        // Two full periods without attempts: the window is empty again.
        time.Advance(TimeSpan.FromSeconds(20));
        Assert.Equal(0, table.Inspect(A)!.Value.Rate);
        Assert.Equal(SourceVerdict.Admitted, table.TryAdmit(A, limits, out _));
    }

    [Fact]
    public void Rate_estimate_slides_the_previous_period_out_linearly()
    {
        var time = new FakeTimeProvider();
        var table = new SourceAdmissionTable(time);
        var limits = new SourceLimits(0, 4, TimeSpan.FromSeconds(10));
        for (int i = 0; i < 4; i++)
        {
            Assert.Equal(SourceVerdict.Admitted, table.TryAdmit(A, limits, out _));
        }

        // 15 s later, half of the previous period (4 attempts) is still in the window: 2 + 1 (this one) = 3 ≤ 4.
        time.Advance(TimeSpan.FromSeconds(15));
        Assert.Equal(SourceVerdict.Admitted, table.TryAdmit(A, limits, out _));
        Assert.Equal(SourceVerdict.Admitted, table.TryAdmit(A, limits, out _)); // 2 + 2 = 4
        Assert.Equal(SourceVerdict.RateExceeded, table.TryAdmit(A, limits, out _)); // 2 + 3 = 5
    }

    [Fact]
    public void Both_limits_apply_and_a_rate_refusal_is_reported_first()
    {
        var table = new SourceAdmissionTable(new FakeTimeProvider());
        var limits = new SourceLimits(1, 2, TimeSpan.FromSeconds(60));
        Assert.Equal(SourceVerdict.Admitted, table.TryAdmit(A, limits, out SourceLease open));
        Assert.Equal(SourceVerdict.TooManyConnections, table.TryAdmit(A, limits, out _));
        Assert.Equal(SourceVerdict.RateExceeded, table.TryAdmit(A, limits, out _));
        table.Release(open);
        Assert.Equal(SourceVerdict.RateExceeded, table.TryAdmit(A, limits, out _));
    }

    [Fact]
    public void Entries_expire_once_closed_and_past_their_window()
    {
        var time = new FakeTimeProvider();
        var table = new SourceAdmissionTable(time);
        var limits = new SourceLimits(5, 10, TimeSpan.FromSeconds(10));
        Assert.Equal(SourceVerdict.Admitted, table.TryAdmit(A, limits, out SourceLease held));
        Assert.Equal(SourceVerdict.Admitted, table.TryAdmit(B, limits, out SourceLease brief));
        table.Release(brief);

        // Within the window B's rate history is kept even with nothing open.
        time.Advance(TimeSpan.FromSeconds(15));
        Assert.Equal(0, table.Sweep());
        Assert.Equal(2, table.Count);

        // Past it, B goes; A stays while it has a connection open, however long that is.
        time.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal(1, table.Sweep());
        Assert.Null(table.Inspect(B));
        time.Advance(TimeSpan.FromHours(1));
        Assert.Equal(0, table.Sweep());
        Assert.Equal(1, table.Inspect(A)!.Value.Open);

        // Its last attempt's window is long over: it goes with its last connection.
        table.Release(held);
        Assert.Equal(0, table.Count);
    }

    [Fact]
    public void A_reload_changing_the_limits_keeps_open_counts()
    {
        var time = new FakeTimeProvider();
        var table = new SourceAdmissionTable(time);
        var before = new SourceLimits(3, 0, TimeSpan.Zero);
        Assert.Equal(SourceVerdict.Admitted, table.TryAdmit(A, before, out SourceLease one));
        Assert.Equal(SourceVerdict.Admitted, table.TryAdmit(A, before, out SourceLease two));

        // Lowered to 2: the two open connections count, the third is refused; no connection is cut.
        var after = new SourceLimits(2, 5, TimeSpan.FromSeconds(1));
        Assert.Equal(SourceVerdict.TooManyConnections, table.TryAdmit(A, after, out _));
        table.Release(one);
        Assert.Equal(SourceVerdict.Admitted, table.TryAdmit(A, after, out SourceLease three));
        table.Release(two);
        table.Release(three);
        Assert.Equal(0, table.Inspect(A)!.Value.Open);
    }

    [Fact]
    public void A_flood_of_distinct_sources_never_grows_the_table_past_its_capacity()
    {
        var time = new FakeTimeProvider();
        const int capacity = 1024;
        var table = new SourceAdmissionTable(time, capacity);
        var limits = new SourceLimits(0, 1, TimeSpan.FromSeconds(60));
        Assert.Equal(capacity, table.Capacity);

        // 100,000 sources, one attempt each (a flood from an IPv6 /64, say), each closed at once but inside its window.
        Span<byte> bytes = stackalloc byte[16];
        for (int i = 0; i < 100_000; i++)
        {
            bytes.Clear();
            bytes[0] = 0x20;
            bytes[1] = 0x01;
            bytes[2] = 0x0d;
            bytes[3] = 0xb8;
            BitConverter.TryWriteBytes(bytes[12..], i);
            Assert.Equal(SourceVerdict.Admitted, table.TryAdmit(new IPAddress(bytes), limits, out SourceLease lease));
            table.Release(lease);
            Assert.True(table.Count <= capacity, $"{table.Count} entries after {i + 1} sources");
            time.Advance(TimeSpan.FromMilliseconds(1));
        }

        Assert.Equal(0, table.Untracked);

        // Sources with open connections are never evicted; once their stripes are full of them, new sources pass
        // untracked instead of being refused or growing the table.
        var small = new SourceAdmissionTable(time, SourceAdmissionTable.Stripes);
        var held = new List<SourceLease>();
        for (int i = 0; i < 1000; i++)
        {
            Assert.Equal(SourceVerdict.Admitted, small.TryAdmit(new IPAddress([198, 18, (byte)(i >> 8), (byte)i]), new SourceLimits(1, 0, TimeSpan.Zero), out SourceLease lease));
            held.Add(lease);
            Assert.True(small.Count <= SourceAdmissionTable.Stripes);
        }

        Assert.Equal(1000 - small.Count, small.Untracked);
        Assert.Equal(small.Count, held.Count(lease => lease.IsTracked));
        held.ForEach(small.Release);
        Assert.Equal(0, small.Count);
    }
}

/// <summary>The table's memory bound, measured alone (the heap is process-wide).</summary>
[Collection(TimingCollection.Name)]
public class SourceAdmissionTableMemoryTests(ITestOutputHelper output)
{
    [Fact]
    public void A_full_table_stays_within_its_stated_memory_bound()
    {
        var time = new FakeTimeProvider();
        var limits = new SourceLimits(0, 1, TimeSpan.FromSeconds(60));
        long before = GC.GetTotalMemory(forceFullCollection: true);
        var table = new SourceAdmissionTable(time);
        for (int i = 0; i < 2 * SourceAdmissionTable.DefaultCapacity; i++)
        {
            // Every address of 198.18.0.0/15 (twice the capacity), each closed at once but inside its rate window.
            table.TryAdmit(new IPAddress([198, (byte)(18 + (i >> 16)), (byte)(i >> 8), (byte)i]), limits, out SourceLease lease);
            table.Release(lease);
        }

        long after = GC.GetTotalMemory(forceFullCollection: true);
        GC.KeepAlive(table);
        output.WriteLine($"a full table of {table.Count} sources holds {after - before} bytes ({(after - before) / table.Count} per source)");
        Assert.InRange(table.Count, SourceAdmissionTable.DefaultCapacity * 7 / 8, SourceAdmissionTable.DefaultCapacity);

        // The stated bound (SourceAdmissionTable remarks): about 170 bytes per source, under 12 MiB at the default capacity.
        Assert.True(after - before < 12 * 1024 * 1024, $"a full table of {table.Count} sources holds {after - before} bytes");
    }
}
