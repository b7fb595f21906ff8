using VipProxy.HealthChecks.Decisions;
using VipProxy.HealthChecks.Probes;

namespace VipProxy.HealthChecks.Monitoring;

/// <summary>
/// Drives one checker of one real server: waits as its <see cref="CheckScheduler"/> says (random warmup, then
/// delay_loop, or delay_before_retry while a failure is being confirmed), probes, records the result, reports.
/// </summary>
internal sealed class CheckerLoop
{
    private readonly int _index;
    private readonly IHealthProbe _probe;
    private readonly CheckScheduler _scheduler;
    private readonly TimeProvider _timeProvider;
    private readonly KeyValuePair<string, object?> _realServerTag;
    private readonly KeyValuePair<string, object?> _checkTag;
    private int _successes;
    private int _failures;
    private TaskCompletionSource _nudge = NewNudge();

    /// <summary>At most one probe brought forward by <see cref="Nudge"/> per this interval.</summary>
    public static readonly TimeSpan MinimumExpeditedGap = TimeSpan.FromSeconds(1);

    public CheckerLoop(int index, IHealthProbe probe, CheckTiming timing, bool initialUp, Random random, TimeProvider timeProvider, string realServer)
    {
        _index = index;
        _probe = probe;
        _timeProvider = timeProvider;
        _realServerTag = new("real_server", realServer);
        // The description starts with the checker's keyword (TCP_CHECK, MYSQL_CHECK, ...): one series per kind.
        _checkTag = new("check", probe.Description.Split(' ', 2)[0]);
        _scheduler = new CheckScheduler(timing, initialUp, random, timeProvider);
        InitialStatus = new CheckerStatus(probe.Description, initialUp, _scheduler.Health, 0, 0, null, null);
    }

    public CheckerStatus InitialStatus { get; }

    public string Description => _probe.Description;

    /// <summary>Runs until cancelled; each finished probe is passed to <paramref name="report"/>.</summary>
    public async Task RunAsync(Action<CheckerReport> report, CancellationToken cancellationToken)
    {
        while (true)
        {
            if (!await WaitForNextProbeAsync(cancellationToken).ConfigureAwait(false))
            {
                continue;
            }

            long probeStarted = _timeProvider.GetTimestamp();
            ProbeResult result = await ProbeOnceAsync(cancellationToken).ConfigureAwait(false);
            HealthCheckMetrics.CheckDuration.Record(
                _timeProvider.GetElapsedTime(probeStarted).TotalSeconds,
                _realServerTag, _checkTag, new KeyValuePair<string, object?>("result", result.IsUp ? "up" : "down"));
            CheckDecision decision = _scheduler.RecordResult(result.IsUp);
            (_successes, _failures) = result.IsUp ? (_successes + 1, 0) : (0, _failures + 1);
            var status = new CheckerStatus(_probe.Description, decision.IsUp, decision.Health, _successes, _failures,
                result, _timeProvider.GetUtcNow());
            report(new CheckerReport(_index, result, decision, status));
        }
    }

    /// <summary>Asks for a probe now (see <see cref="CheckScheduler.Expedite"/>). Safe from any thread.</summary>
    public void Nudge() => Volatile.Read(ref _nudge).TrySetResult();

    /// <summary>Waits until the scheduler's next probe is due; false when a nudge cut the wait short, so the caller
    /// asks the scheduler again (the scheduler is only ever touched by this loop).</summary>
    private async Task<bool> WaitForNextProbeAsync(CancellationToken cancellationToken)
    {
        TimeSpan wait = _scheduler.TimeUntilNextProbe();
        if (wait <= TimeSpan.Zero)
        {
            return true;
        }

        Task nudged = Volatile.Read(ref _nudge).Task;
        using var stopDelay = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Task delay = Task.Delay(wait, _timeProvider, stopDelay.Token);
        if (await Task.WhenAny(delay, nudged).ConfigureAwait(false) == nudged)
        {
            await stopDelay.CancelAsync().ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();
            Volatile.Write(ref _nudge, NewNudge());
            _scheduler.Expedite(MinimumExpeditedGap);
            return false;
        }

        await delay.ConfigureAwait(false);
        return true;
    }

    private static TaskCompletionSource NewNudge() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private async Task<ProbeResult> ProbeOnceAsync(CancellationToken cancellationToken)
    {
        try
        {
            return await _probe.ProbeAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
#pragma warning disable CA1031 // A probe's bug must count as a failed probe, not kill the checker loop.
        catch (Exception e)
#pragma warning restore CA1031
        {
            return ProbeResult.Down($"probe failed: {e.GetType().Name}: {e.Message}");
        }
    }
}
