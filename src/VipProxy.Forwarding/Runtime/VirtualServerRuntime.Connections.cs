using System.Net;
using VipProxy.Forwarding.Loop;
using VipProxy.Forwarding.Relay;

namespace VipProxy.Forwarding.Runtime;

/// <summary>
/// Operations on live connections, for the control plane (<c>vipproxy connections</c>, kill, shutdown-sessions,
/// drain). Each goes through the loops' mailboxes and runs on the loop that owns the connection, between event
/// batches: no lock is shared with the data path.
/// </summary>
public sealed partial class VirtualServerRuntime
{
    /// <summary>The live connections (id, client, virtual server, real server, age, idle time, bytes each way),
    /// ordered by id; only those to <paramref name="realServer"/> when given.</summary>
    public async Task<IReadOnlyList<ConnectionStatus>> GetConnectionsAsync(IPEndPoint? realServer = null)
    {
        List<ConnectionStatus>[] perLoop = await OnEachLoopAsync(binding =>
        {
            var rows = new List<ConnectionStatus>();
            long now = binding.Loop.Now;
            foreach (ILoopHandler handler in binding.Loop.Handlers())
            {
                if (handler is LoopConnection connection && ReferenceEquals(connection.Runtime, this)
                    && (realServer is null || realServer.Equals(connection.Server?.Endpoint)))
                {
                    rows.Add(connection.Describe(now));
                }
            }

            return rows;
        }).ConfigureAwait(false);
        return [.. perLoop.SelectMany(rows => rows).OrderBy(row => row.Id)];
    }

    /// <summary>Runs <paramref name="inspect"/> on each of this virtual server's connections on its own loop, with the
    /// loop's kernel adapter, so the descriptors cannot close underneath it (tests read socket options this way).</summary>
    internal async Task<IReadOnlyList<T>> InspectConnectionsAsync<T>(Func<LoopConnection, ILoopKernel, T> inspect)
    {
        List<T>[] perLoop = await OnEachLoopAsync(binding =>
        {
            var results = new List<T>();
            foreach (ILoopHandler handler in binding.Loop.Handlers())
            {
                if (handler is LoopConnection connection && ReferenceEquals(connection.Runtime, this))
                {
                    results.Add(inspect(connection, binding.Loop.Kernel));
                }
            }

            return results;
        }).ConfigureAwait(false);
        return [.. perLoop.SelectMany(results => results)];
    }

    /// <summary>Closes the connection with this id (both sides reset), recorded as <paramref name="reason"/>
    /// (default <see cref="CloseReason.OperatorClosed"/>). False when this virtual server has no such connection.</summary>
    public async Task<bool> CloseConnectionAsync(long id, CloseReason reason = CloseReason.OperatorClosed) =>
        await CloseWhereAsync(connection => connection.Id == id, reason).ConfigureAwait(false) > 0;

    /// <summary>
    /// shutdown-sessions: closes every established connection to <paramref name="realServer"/> (both sides reset),
    /// recorded as <paramref name="reason"/> (default <see cref="CloseReason.SessionsShutdown"/>). Connections still
    /// connecting are not its yet and are left alone. Returns how many were closed.
    /// </summary>
    public Task<int> CloseConnectionsToAsync(IPEndPoint realServer, CloseReason reason = CloseReason.SessionsShutdown)
    {
        ArgumentNullException.ThrowIfNull(realServer);
        return CloseWhereAsync(connection => realServer.Equals(connection.Server?.Endpoint), reason);
    }

    /// <summary>The ids of the connections open now, for a caller that waits for exactly these to end.</summary>
    public async Task<long[]> OpenConnectionIdsAsync()
    {
        IReadOnlyList<ConnectionStatus> rows = await GetConnectionsAsync().ConfigureAwait(false);
        return [.. rows.Select(row => row.Id)];
    }

    /// <summary>How many of <paramref name="ids"/> are still open.</summary>
    public async Task<int> CountOpenAsync(IReadOnlyCollection<long> ids)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var wanted = ids as ISet<long> ?? new HashSet<long>(ids);
        int[] open = await OnEachLoopAsync(binding =>
        {
            int count = 0;
            foreach (ILoopHandler handler in binding.Loop.Handlers())
            {
                if (handler is LoopConnection connection && ReferenceEquals(connection.Runtime, this) && wanted.Contains(connection.Id))
                {
                    count++;
                }
            }

            return count;
        }).ConfigureAwait(false);
        return open.Sum();
    }

    /// <summary>Relay buffers and kernel pipes held now by this virtual server's connections (an idle connection
    /// holds neither).</summary>
    public async Task<int> ConnectionsHoldingBuffersAsync()
    {
        int[] holding = await OnEachLoopAsync(binding =>
        {
            int count = 0;
            foreach (ILoopHandler handler in binding.Loop.Handlers())
            {
                if (handler is LoopConnection connection && ReferenceEquals(connection.Runtime, this) && connection.HoldsBuffer)
                {
                    count++;
                }
            }

            return count;
        }).ConfigureAwait(false);
        return holding.Sum();
    }

    /// <summary>After a reload changed <c>idle_timeout</c>: every relaying connection re-arms from the new value.</summary>
    private void RearmIdleTimers()
    {
        foreach (LoopVirtualServer binding in _bindings)
        {
            binding.Loop.Post(loop =>
            {
                foreach (ILoopHandler handler in loop.Handlers())
                {
                    if (handler is LoopConnection connection && ReferenceEquals(connection.Runtime, this))
                    {
                        connection.ArmIdle();
                    }
                }
            });
        }
    }
}
