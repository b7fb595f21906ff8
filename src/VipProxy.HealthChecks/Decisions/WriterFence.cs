using VipProxy.Config.Model;

namespace VipProxy.HealthChecks.Decisions;

/// <summary>
/// The fence of a writer pool: which of a virtual server's real servers may take connections, given the health
/// verdicts. A writer is a real server checked by <c>MYSQL_CHECK { role primary }</c>, so "up" means "writable".
/// Exactly one server of a replication pair is writable; when two report writable at once the database itself is
/// split, and sending clients to either would split the data too. Under <see cref="WriterConflictPolicy.Refuse"/>
/// no writer is taken until only one is writable; under <see cref="WriterConflictPolicy.First"/> the first in
/// configuration order is. Servers that are not writers pass their verdict through.
/// </summary>
/// <remarks>
/// Pure and not thread-safe: the owner serialises <see cref="Report"/> calls and applies what it returns, so the
/// forwarder never sees two writers even for the moment between two health events.
/// </remarks>
public sealed class WriterFence
{
    private readonly bool[] _isWriter;
    private readonly bool[] _healthUp;
    private readonly bool[] _forwarded;
    private readonly WriterConflictPolicy _policy;

    /// <summary>Creates the fence over the servers' starting verdicts.</summary>
    /// <param name="isWriter">Per real server, in configuration order: whether it is a writer.</param>
    /// <param name="initiallyUp">Per real server: its health verdict before the first check.</param>
    /// <param name="policy">The virtual server's <c>writer_conflict</c>.</param>
    public WriterFence(IReadOnlyList<bool> isWriter, IReadOnlyList<bool> initiallyUp, WriterConflictPolicy policy)
    {
        ArgumentNullException.ThrowIfNull(isWriter);
        ArgumentNullException.ThrowIfNull(initiallyUp);
        if (isWriter.Count != initiallyUp.Count)
        {
            throw new ArgumentException("one starting verdict per real server", nameof(initiallyUp));
        }

        _isWriter = [.. isWriter];
        _healthUp = [.. initiallyUp];
        _policy = policy;
        _forwarded = Decide();
        // Servers assumed up before their first check are not a conflict worth counting: the fence just takes no
        // writer until the checks have said which one is writable.
        InConflict = WritableCount() > 1;
    }

    /// <summary>True when the virtual server has at least one writer, i.e. the fence does anything.</summary>
    public static bool Applies(VirtualServer virtualServer)
    {
        ArgumentNullException.ThrowIfNull(virtualServer);
        return virtualServer.RealServers.Any(IsWriter);
    }

    /// <summary>A real server checked by <c>MYSQL_CHECK { role primary }</c>.</summary>
    public static bool IsWriter(RealServer server)
    {
        ArgumentNullException.ThrowIfNull(server);
        return server.Checkers.Any(c => c is MySqlCheck { Role: MySqlRole.Primary });
    }

    /// <summary>More than one writer reports writable now.</summary>
    public bool InConflict { get; private set; }

    /// <summary>How many times a conflict began after the start.</summary>
    public long Conflicts { get; private set; }

    /// <summary>Whether real server <paramref name="index"/> may take connections now.</summary>
    public bool Forwards(int index) => _forwarded[index];

    /// <summary>The writers that report writable now, in configuration order.</summary>
    public IReadOnlyList<int> Writable() => [.. Enumerable.Range(0, _healthUp.Length).Where(i => _isWriter[i] && _healthUp[i])];

    /// <summary>
    /// Applies a new health verdict of real server <paramref name="index"/> and returns every server whose
    /// forwarding verdict changed, with the new verdict (possibly none, possibly several: a second writer coming up
    /// withdraws the first under refuse).
    /// </summary>
    public IReadOnlyList<(int Index, bool Forward)> Report(int index, bool healthUp)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, _healthUp.Length);
        _healthUp[index] = healthUp;
        bool[] next = Decide();
        bool conflict = WritableCount() > 1;
        if (conflict && !InConflict)
        {
            Conflicts++;
        }

        InConflict = conflict;
        var changes = new List<(int, bool)>();
        // Withdrawals first: the caller applies them in this order, so no instant has two writers forwarded.
        for (int i = 0; i < next.Length; i++)
        {
            if (_forwarded[i] && !next[i])
            {
                changes.Add((i, false));
            }
        }

        for (int i = 0; i < next.Length; i++)
        {
            if (!_forwarded[i] && next[i])
            {
                changes.Add((i, true));
            }
        }

        Array.Copy(next, _forwarded, next.Length);
        return changes;
    }

    private int WritableCount()
    {
        int count = 0;
        for (int i = 0; i < _healthUp.Length; i++)
        {
            if (_isWriter[i] && _healthUp[i])
            {
                count++;
            }
        }

        return count;
    }

    private bool[] Decide()
    {
        bool[] forward = [.. _healthUp];
        if (WritableCount() <= 1)
        {
            return forward;
        }

        bool firstTaken = false;
        for (int i = 0; i < forward.Length; i++)
        {
            if (!_isWriter[i] || !_healthUp[i])
            {
                continue;
            }

            forward[i] = _policy == WriterConflictPolicy.First && !firstTaken;
            firstTaken = true;
        }

        return forward;
    }
}
