using System.Buffers;
using System.Net;
using VipProxy.Forwarding.Scheduling;

namespace VipProxy.Forwarding.Admission;

/// <summary>
/// Per-client-IP admission for <c>maxconn_per_source</c> and <c>conn_rate_per_source</c>, with HAProxy's stick-table
/// semantics: <c>sc_conn_cur</c> (connections from the source open now) and <c>sc_conn_rate</c> (connection attempts
/// from the source over the period, every attempt counted, refused ones included, so a client hammering past the limit
/// stays out until it slows down).
/// </summary>
/// <remarks>
/// <para>Rate: HAProxy's two-bucket sliding window (freq_ctr): the count of the current period plus the count of the
/// previous one weighted by the part of it still inside the sliding window. It costs two counters per source instead
/// of one timestamp per connection, and is exact at period boundaries and a linear estimate in between.</para>
/// <para>Concurrency: <see cref="Stripes"/> stripes, each a <see cref="Lock"/> and a dictionary, chosen by a
/// per-process randomised hash of the address: no global lock, and a source touches its stripe once when a
/// connection is accepted and once when it ends, never per read. The lease holds the entry itself, so releasing needs
/// no lookup, and an entry with open connections is never removed.</para>
/// <para>Memory: an entry is dropped when its source has no open connection and its rate window has passed (at once on
/// the last release when no rate is limited; otherwise by <see cref="Sweep"/> or lazily when its stripe is full). The
/// table holds at most <see cref="Capacity"/> entries (each about 170 bytes with its dictionary slot, so the default
/// 65,536 holds under 12 MiB per virtual server). When a stripe is full, a new source first reclaims expired entries,
/// else evicts the eighth of the stripe's idle entries (no open connection) seen longest ago, forgetting their rate
/// history, as HAProxy purges the oldest unreferenced stick-table entries. If every entry of the stripe has open
/// connections, the new source is admitted untracked (counted in <see cref="Untracked"/>): the virtual server's
/// <c>maxconn</c> bounds that case, and refusing every new source because others are connected would turn the limit
/// into an outage.</para>
/// <para>Time comes from <see cref="TimeProvider.GetTimestamp"/> (monotonic).</para>
/// </remarks>
public sealed class SourceAdmissionTable
{
    /// <summary>Default bound on tracked sources per virtual server.</summary>
    public const int DefaultCapacity = 65_536;

    /// <summary>Number of independently locked stripes (a power of two).</summary>
    public const int Stripes = 64;

    private readonly TimeProvider _timeProvider;
    private readonly Stripe[] _stripes;
    private readonly int _seed = Random.Shared.Next();
    private int _count;
    private long _untracked;

    /// <summary>Creates an empty table.</summary>
    /// <param name="timeProvider">Clock.</param>
    /// <param name="capacity">Most entries held at once (rounded up to a multiple of <see cref="Stripes"/>).</param>
    public SourceAdmissionTable(TimeProvider timeProvider, int capacity = DefaultCapacity)
    {
        ArgumentNullException.ThrowIfNull(timeProvider);
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _timeProvider = timeProvider;
        int perStripe = (capacity + Stripes - 1) / Stripes;
        Capacity = perStripe * Stripes;
        _stripes = new Stripe[Stripes];
        for (int i = 0; i < Stripes; i++)
        {
            _stripes[i] = new Stripe(this, perStripe, _seed);
        }
    }

    /// <summary>Most entries the table holds.</summary>
    public int Capacity { get; }

    /// <summary>Sources tracked now (including expired ones not yet swept).</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>Connections admitted without tracking because their stripe was full of sources with open
    /// connections.</summary>
    public long Untracked => Interlocked.Read(ref _untracked);

    /// <summary>
    /// Decides on a new connection from <paramref name="source"/>. The attempt counts towards the source's rate
    /// whatever the verdict. On <see cref="SourceVerdict.Admitted"/> the connection counts as open until
    /// <paramref name="lease"/> is passed to <see cref="Release"/>.
    /// </summary>
    public SourceVerdict TryAdmit(IPAddress source, SourceLimits limits, out SourceLease lease)
    {
        ArgumentNullException.ThrowIfNull(source);
        lease = default;
        if (limits.IsNone)
        {
            return SourceVerdict.Admitted;
        }

        ClientAddressKey key = ClientAddressKey.FromAddress(source);
        Stripe stripe = _stripes[StripeOf(key)];
        long now = _timeProvider.GetTimestamp();
        long period = limits.HasRate ? ToTimestampTicks(limits.RatePeriod) : 0;
        lock (stripe.Lock)
        {
            if (!stripe.Entries.TryGetValue(key, out SourceEntry? entry))
            {
                if (stripe.Entries.Count >= stripe.Capacity && !stripe.MakeRoom(now))
                {
                    Interlocked.Increment(ref _untracked);
                    return SourceVerdict.Admitted;
                }

                entry = new SourceEntry(key, stripe, now);
                stripe.Entries.Add(key, entry);
                Interlocked.Increment(ref _count);
            }

            entry.LastSeen = now;
            SourceVerdict verdict = SourceVerdict.Admitted;
            if (limits.HasRate)
            {
                entry.CountAttempt(now, period);
                if (!entry.RateWithin(now, limits.RateConnections))
                {
                    verdict = SourceVerdict.RateExceeded;
                }
            }
            else
            {
                entry.ForgetRate();
            }

            if (verdict == SourceVerdict.Admitted && limits.MaxConnections > 0 && entry.Open >= limits.MaxConnections)
            {
                verdict = SourceVerdict.TooManyConnections;
            }

            if (verdict == SourceVerdict.Admitted)
            {
                if (entry.Open++ == 0)
                {
                    stripe.EntriesWithOpenConnections++;
                }

                lease = new SourceLease(entry);
            }
            else if (entry.IsExpired(now))
            {
                stripe.Remove(entry);
            }

            return verdict;
        }
    }

    /// <summary>Ends a connection admitted by <see cref="TryAdmit"/>. Releasing a default lease does nothing;
    /// release each lease once.</summary>
    public void Release(SourceLease lease)
    {
        if (lease.Entry is not { } entry)
        {
            return;
        }

        Stripe stripe = entry.Owner;
        long now = _timeProvider.GetTimestamp();
        lock (stripe.Lock)
        {
            if (--entry.Open == 0)
            {
                stripe.EntriesWithOpenConnections--;
            }

            entry.LastSeen = now;
            if (entry.IsExpired(now))
            {
                stripe.Remove(entry);
            }
        }
    }

    /// <summary>The source's open connections and rate estimate (for tests and diagnostics); null when untracked.</summary>
    public (int Open, double Rate)? Inspect(IPAddress source)
    {
        ArgumentNullException.ThrowIfNull(source);
        ClientAddressKey key = ClientAddressKey.FromAddress(source);
        Stripe stripe = _stripes[StripeOf(key)];
        long now = _timeProvider.GetTimestamp();
        lock (stripe.Lock)
        {
            return stripe.Entries.TryGetValue(key, out SourceEntry? entry) ? (entry.Open, entry.Rate(now)) : null;
        }
    }

    /// <summary>Drops every expired entry, one stripe at a time (off the data path: the owner calls it
    /// periodically). Returns how many were dropped.</summary>
    public int Sweep()
    {
        long now = _timeProvider.GetTimestamp();
        int removed = 0;
        foreach (Stripe stripe in _stripes)
        {
            lock (stripe.Lock)
            {
                removed += stripe.RemoveExpired(now);
            }
        }

        return removed;
    }

    private int StripeOf(ClientAddressKey key) => (int)((uint)HashCode.Combine(key.High, key.Low, _seed) >> 26) & (Stripes - 1);

    private long ToTimestampTicks(TimeSpan period) =>
        (long)Int128.Min(long.MaxValue / 4, (Int128)period.Ticks * _timeProvider.TimestampFrequency / TimeSpan.TicksPerSecond);

    /// <summary>One lock and the entries hashed to it.</summary>
    internal sealed class Stripe(SourceAdmissionTable table, int capacity, int seed)
    {
        public readonly Lock Lock = new();
        public readonly Dictionary<ClientAddressKey, SourceEntry> Entries = new(new KeyComparer(seed));
        public readonly int Capacity = capacity;

        /// <summary>Entries with at least one open connection: never expired nor evicted.</summary>
        public int EntriesWithOpenConnections;

        public void Remove(SourceEntry entry)
        {
            if (Entries.Remove(entry.Key))
            {
                Interlocked.Decrement(ref table._count);
            }
        }

        public int RemoveExpired(long now)
        {
            int removed = 0;
            foreach (KeyValuePair<ClientAddressKey, SourceEntry> pair in Entries)
            {
                // Removing the current entry while enumerating is allowed for Dictionary since .NET Core 3.0.
                if (pair.Value.IsExpired(now))
                {
                    Entries.Remove(pair.Key);
                    removed++;
                }
            }

            Interlocked.Add(ref table._count, -removed);
            return removed;
        }

        /// <summary>
        /// Frees room for new sources: expired entries first; else the eighth of the idle entries (no open connection)
        /// seen longest ago, so that the scan, which costs the whole stripe, is paid once per many new sources and a
        /// flood of new addresses costs a bounded amount per connection. False when every entry has open connections.
        /// </summary>
        public bool MakeRoom(long now)
        {
            // Full of connected sources: nothing to reclaim, and no scan to pay for every new source.
            if (EntriesWithOpenConnections >= Entries.Count)
            {
                return false;
            }

            if (RemoveExpired(now) > 0)
            {
                return true;
            }

            long[] seen = ArrayPool<long>.Shared.Rent(Entries.Count);
            try
            {
                int idle = 0;
                foreach (SourceEntry entry in Entries.Values)
                {
                    if (entry.Open == 0)
                    {
                        seen[idle++] = entry.LastSeen;
                    }
                }

                if (idle == 0)
                {
                    return false;
                }

                Span<long> idleSeen = seen.AsSpan(0, idle);
                idleSeen.Sort();
                int evict = Math.Max(1, idle / 8);
                long threshold = idleSeen[evict - 1];
                int removed = 0;
                foreach (KeyValuePair<ClientAddressKey, SourceEntry> pair in Entries)
                {
                    // Ties at the threshold: stop at the eighth rather than forget every source seen at that instant.
                    if (removed < evict && pair.Value.Open == 0 && pair.Value.LastSeen <= threshold)
                    {
                        Entries.Remove(pair.Key);
                        removed++;
                    }
                }

                Interlocked.Add(ref table._count, -removed);
                return true;
            }
            finally
            {
                ArrayPool<long>.Shared.Return(seen);
            }
        }
    }

    /// <summary>Hashes addresses with a per-process seed, so chosen source addresses cannot pile into one
    /// bucket.</summary>
    private sealed class KeyComparer(int seed) : IEqualityComparer<ClientAddressKey>
    {
        public bool Equals(ClientAddressKey x, ClientAddressKey y) => x == y;

        public int GetHashCode(ClientAddressKey obj) => HashCode.Combine(obj.Low, obj.High, seed);
    }

    /// <summary>One source's counters. Guarded by its stripe's lock.</summary>
    internal sealed class SourceEntry(ClientAddressKey key, Stripe owner, long now)
    {
        public readonly ClientAddressKey Key = key;
        public readonly Stripe Owner = owner;
        public int Open;
        public long LastSeen = now;
        private long _periodTicks;
        private long _windowStart = now;
        private long _current;
        private long _previous;

        /// <summary>Counts an attempt at <paramref name="now"/> in the current bucket, rolling the buckets first.</summary>
        public void CountAttempt(long now, long period)
        {
            if (_periodTicks != period)
            {
                // A reload changed the period: the old counts do not describe the new window.
                _periodTicks = period;
                _windowStart = now;
                _current = 0;
                _previous = 0;
            }

            Roll(now);
            _current++;
        }

        public void ForgetRate()
        {
            _periodTicks = 0;
            _current = 0;
            _previous = 0;
        }

        /// <summary>HAProxy's estimate ≤ limit, in exact integer arithmetic:
        /// current + previous × (period − elapsed) / period ≤ limit.</summary>
        public bool RateWithin(long now, int limit)
        {
            Roll(now);
            long elapsed = now - _windowStart;
            return (Int128)_current * _periodTicks + (Int128)_previous * (_periodTicks - elapsed) <= (Int128)limit * _periodTicks;
        }

        public double Rate(long now)
        {
            if (_periodTicks == 0)
            {
                return 0;
            }

            Roll(now);
            return _current + (_previous * (double)(_periodTicks - (now - _windowStart)) / _periodTicks);
        }

        /// <summary>No open connection, and no attempt in the sliding window any more (both buckets read zero once
        /// rolled to <paramref name="now"/>).</summary>
        public bool IsExpired(long now)
        {
            if (Open != 0)
            {
                return false;
            }

            Roll(now);
            return _current == 0 && _previous == 0;
        }

        private void Roll(long now)
        {
            if (_periodTicks == 0)
            {
                return;
            }

            long elapsed = now - _windowStart;
            if (elapsed < _periodTicks)
            {
                return;
            }

            long periods = elapsed / _periodTicks;
            _previous = periods == 1 ? _current : 0;
            _current = 0;
            _windowStart += periods * _periodTicks;
        }
    }
}

/// <summary>An admitted connection's hold on its source's entry; pass it to
/// <see cref="SourceAdmissionTable.Release"/> when the connection ends. Default: untracked (nothing to release).</summary>
public readonly struct SourceLease : IEquatable<SourceLease>
{
    internal SourceLease(SourceAdmissionTable.SourceEntry entry) => Entry = entry;

    internal SourceAdmissionTable.SourceEntry? Entry { get; }

    /// <summary>True when the connection is counted against its source.</summary>
    public bool IsTracked => Entry is not null;

    /// <inheritdoc />
    public bool Equals(SourceLease other) => ReferenceEquals(Entry, other.Entry);

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is SourceLease other && Equals(other);

    /// <inheritdoc />
    public override int GetHashCode() => Entry?.GetHashCode() ?? 0;

    /// <summary>Equality.</summary>
    public static bool operator ==(SourceLease left, SourceLease right) => left.Equals(right);

    /// <summary>Inequality.</summary>
    public static bool operator !=(SourceLease left, SourceLease right) => !left.Equals(right);
}
