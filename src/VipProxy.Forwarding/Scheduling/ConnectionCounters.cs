namespace VipProxy.Forwarding.Scheduling;

/// <summary>
/// Live connection counts of one real server, shared by every snapshot that describes that server.
/// </summary>
/// <remarks>
/// The snapshot (<see cref="RealServerSnapshot"/>) is immutable and is replaced when weight or health changes; the counters
/// must survive that replacement, so they live in this separate object that the data path updates with
/// <see cref="Interlocked"/> operations. No locks: a pick only reads these values, and a slightly stale read merely
/// makes lc/wlc choose as if the connection had arrived a moment earlier.
/// <para>
/// "Inactive" follows LVS (<c>ip_vs_dest.inactconns</c>): connections that are no longer fully established. For a
/// userspace proxy that is a half-closed connection (one side sent FIN, the other still flows). A data path that
/// does not track half-close simply never calls <see cref="ConnectionBecameInactive"/>.
/// </para>
/// </remarks>
public sealed class ConnectionCounters
{
    private long _active;
    private long _inactive;
    private long _open;
    private long _total;
    private readonly TrafficCell[] _traffic = new TrafficCell[TrafficStripes];
    private long _failedConnects;

    /// <summary>Per-loop byte counters: each event loop adds to its own cell with plain stores as it moves bytes (one
    /// writer per cell, no atomic operation, no shared cache line); readers sum them.</summary>
    private const int TrafficStripes = 64;

    /// <summary>Fully established connections.</summary>
    public long Active => Volatile.Read(ref _active);

    /// <summary>Half-closed connections (LVS "inactconns").</summary>
    public long Inactive => Volatile.Read(ref _inactive);

    /// <summary>Connections that still hold resources: <see cref="Active"/> + <see cref="Inactive"/>. Kept as its
    /// own counter so <see cref="TryConnectionOpened"/> can enforce a limit with one compare-and-swap.</summary>
    public long Open => Volatile.Read(ref _open);

    /// <summary>Connections ever opened to this server (for status output).</summary>
    public long Total => Volatile.Read(ref _total);

    /// <summary>Bytes forwarded to the server, by finished and live connections.</summary>
    public long BytesToServer
    {
        get
        {
            long sum = 0;
            for (int i = 0; i < TrafficStripes; i++)
            {
                sum += Volatile.Read(ref _traffic[i].ToServer);
            }

            return sum;
        }
    }

    /// <summary>Bytes received from the server, by finished and live connections.</summary>
    public long BytesFromServer
    {
        get
        {
            long sum = 0;
            for (int i = 0; i < TrafficStripes; i++)
            {
                sum += Volatile.Read(ref _traffic[i].FromServer);
            }

            return sum;
        }
    }

    /// <summary>Connect attempts by the forwarder that failed or timed out.</summary>
    public long FailedConnects => Volatile.Read(ref _failedConnects);

    /// <summary>Adds bytes moved by event loop <paramref name="loop"/>: only that loop's thread calls it with that
    /// index, so a plain store is enough.</summary>
    public void AddLiveTraffic(int loop, long bytesToServer, long bytesFromServer)
    {
        ref TrafficCell cell = ref _traffic[loop & (TrafficStripes - 1)];
        Volatile.Write(ref cell.ToServer, cell.ToServer + bytesToServer);
        Volatile.Write(ref cell.FromServer, cell.FromServer + bytesFromServer);
    }

    /// <summary>Adds the traffic of a finished connection from any thread (tests, tools).</summary>
    public void AddTraffic(long bytesToServer, long bytesFromServer)
    {
        Interlocked.Add(ref _traffic[TrafficStripes - 1].ToServer, bytesToServer);
        Interlocked.Add(ref _traffic[TrafficStripes - 1].FromServer, bytesFromServer);
    }

    /// <summary>One loop's byte counts, padded to a cache line so two loops never share one.</summary>
    [System.Runtime.InteropServices.StructLayout(System.Runtime.InteropServices.LayoutKind.Explicit, Size = 64)]
    private struct TrafficCell
    {
        [System.Runtime.InteropServices.FieldOffset(0)]
        public long ToServer;

        [System.Runtime.InteropServices.FieldOffset(8)]
        public long FromServer;
    }

    /// <summary>Counts a failed connect attempt (the attempt's reservation is released separately).</summary>
    public void ConnectFailed() => Interlocked.Increment(ref _failedConnects);

    /// <summary>A connection to the server was established (or is being attempted) and counts as active.</summary>
    public void ConnectionOpened()
    {
        Interlocked.Increment(ref _open);
        Interlocked.Increment(ref _active);
        Interlocked.Increment(ref _total);
    }

    /// <summary>
    /// Counts a new connection only if fewer than <paramref name="maxConnections"/> are open (0 = no limit).
    /// </summary>
    /// <remarks>A pick only reads the counters, so between a pick and <see cref="ConnectionOpened"/> a burst of
    /// picks can all see room on the same server. The data path calls this after a pick (via
    /// <see cref="RealServerSnapshot.TryReserveConnection"/>) and, when it fails, picks again with that server excluded,
    /// so <c>maxconn</c> is never exceeded.</remarks>
    public bool TryConnectionOpened(long maxConnections)
    {
        if (maxConnections <= 0)
        {
            ConnectionOpened();
            return true;
        }

        long current = Volatile.Read(ref _open);
        while (current < maxConnections)
        {
            long seen = Interlocked.CompareExchange(ref _open, current + 1, current);
            if (seen == current)
            {
                Interlocked.Increment(ref _active);
                Interlocked.Increment(ref _total);
                return true;
            }

            current = seen;
        }

        return false;
    }

    /// <summary>An active connection was half-closed: it moves from active to inactive.</summary>
    public void ConnectionBecameInactive()
    {
        Interlocked.Decrement(ref _active);
        Interlocked.Increment(ref _inactive);
    }

    /// <summary>A connection ended.</summary>
    /// <param name="wasInactive">True when <see cref="ConnectionBecameInactive"/> had been called for it.</param>
    public void ConnectionClosed(bool wasInactive)
    {
        Interlocked.Decrement(ref _open);
        if (wasInactive)
        {
            Interlocked.Decrement(ref _inactive);
        }
        else
        {
            Interlocked.Decrement(ref _active);
        }
    }
}
