using System.ComponentModel;
using System.Diagnostics;

namespace VipProxy.Demo;

/// <summary>
/// Queries started at a fixed pace whether or not the earlier ones have finished, so that an outage is measured to
/// within one interval: a query stuck on a dead VIP owner does not delay the next one, which finds the new owner as
/// soon as it answers. Bounded in flight and in total, so a broken LAN cannot pile up processes.
/// </summary>
public sealed class QueryStream : IAsyncDisposable
{
    private const int MaxInFlight = 24;
    private const int MaxQueries = 4000;

    private readonly DemoClient _client;
    private readonly int _port;
    private readonly TimeSpan _interval;
    private readonly Stopwatch _clock;
    private readonly CancellationTokenSource _stop = new();
    private readonly Lock _gate = new();
    private readonly List<QueryResult> _results = [];
    private readonly Task _loop;

    internal QueryStream(DemoClient client, int port, TimeSpan interval, Stopwatch clock)
    {
        _client = client;
        _port = port;
        _interval = interval;
        _clock = clock;
        _loop = Task.Run(RunAsync);
    }

    /// <summary>The queries finished so far, in the order they finished.</summary>
    public IReadOnlyList<QueryResult> Results
    {
        get
        {
            lock (_gate)
            {
                return [.. _results];
            }
        }
    }

    /// <summary>Waits for the first finished query matching <paramref name="match"/>; null after <paramref name="timeout"/>.</summary>
    public async Task<QueryResult?> WaitForAsync(Func<QueryResult, bool> match, TimeSpan timeout, CancellationToken cancellation)
    {
        var deadline = _clock.Elapsed + timeout;
        while (true)
        {
            var found = Results.FirstOrDefault(match);
            if (found is not null || _clock.Elapsed > deadline)
            {
                return found;
            }

            await Task.Delay(20, cancellation).ConfigureAwait(false);
        }
    }

    /// <summary>Stops starting queries, waits for those in flight and returns every result.</summary>
    public async Task<IReadOnlyList<QueryResult>> StopAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(false);
        return Results;
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        _stop.Dispose();
    }

    private async Task RunAsync()
    {
        var inFlight = new List<Task>();
        for (int started = 0; started < MaxQueries && !_stop.IsCancellationRequested;)
        {
            inFlight.RemoveAll(t => t.IsCompleted);
            if (inFlight.Count < MaxInFlight)
            {
                inFlight.Add(RunOneAsync());
                started++;
            }

            try
            {
                await Task.Delay(_interval, _stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }

        await Task.WhenAll(inFlight).ConfigureAwait(false);
    }

    private async Task RunOneAsync()
    {
        var started = _clock.Elapsed;
        QueryResult result;
        try
        {
            result = await _client.QueryAsync(_port).ConfigureAwait(false);
        }
        catch (Exception e) when (e is Win32Exception or InvalidOperationException or IOException)
        {
            // The client could not even be started (the LAN is being torn down): a failed query, not a crash.
            result = new QueryResult(_port, started, _clock.Elapsed, 0, e.Message);
        }

        lock (_gate)
        {
            _results.Add(result);
        }
    }
}
