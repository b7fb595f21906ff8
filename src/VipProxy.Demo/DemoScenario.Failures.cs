namespace VipProxy.Demo;

/// <summary>The three failures the demo stages, each measured from the client's side with a <see cref="QueryStream"/>.</summary>
public sealed partial class DemoScenario
{
    private static readonly TimeSpan FailoverLimit = TimeSpan.FromSeconds(20);

    /// <summary>Enough for a health check: delay_loop 1 + a 1 s probe + retry 1 after 0.5 s, with margin.</summary>
    private static readonly TimeSpan DetectionLimit = TimeSpan.FromSeconds(20);

    /// <summary>
    /// Pulls lb1's front cable. lb1 sees carrier loss and goes FAULT at once, but lb2 only learns of it by silence:
    /// it takes over after its Master_Down_Interval. The outage is what the client saw: from the cut to the first
    /// query (started after the cut) that came back with an answer.
    /// </summary>
    private async Task FailOverAsync()
    {
        await using var stream = _client.StartStream(DemoConfig.DataPort, ProbeInterval);
        await RequireAnswerAsync(stream, "before cutting lb1's link").ConfigureAwait(false);

        var cut = _timeline.Clock.Elapsed;
        await _lan.FrontOf(_lan.Lb1).CutLinkAsync().ConfigureAwait(false);
        _timeline.Event(cut, $"cut lb1's link (cable pulled); a query through the VIP starts every {ProbeInterval.TotalMilliseconds:0} ms");
        var released = await WaitUntilAsync(async () => !(await Lb1.VrrpStateAsync().ConfigureAwait(false)).HoldsVip, TimeSpan.FromSeconds(5), "lb1 releasing the VIP").ConfigureAwait(false);
        _timeline.Event(released, $"lb1 is {(await Lb1.VrrpStateAsync().ConfigureAwait(false)).State} (carrier lost) and released the VIP; lb2 hears no more adverts");

        var first = await stream.WaitForAsync(r => r.Succeeded && r.Started >= cut, FailoverLimit, _cancellation).ConfigureAwait(false)
            ?? throw new DemoStepFailedException($"no query through the VIP succeeded within {Timeline.Seconds(FailoverLimit)} of cutting lb1's link");
        var outage = first.Finished - cut;
        var (state, holds) = await Lb2.VrrpStateAsync().ConfigureAwait(false);
        if (state != "MASTER" || !holds)
        {
            throw new DemoStepFailedException($"queries through the VIP work again but lb2 is {state} (holds the VIP: {holds})");
        }

        var failed = (await stream.StopAsync().ConfigureAwait(false)).Count(r => !r.Succeeded && r.Started >= cut && r.Started < first.Finished);
        _timeline.Event(first.Finished, $"lb2 holds VIP {DemoLan.Vip} (outage {Timeline.Seconds(outage)})");
        _timeline.Detail($"outage = cut to first answered query (by {ServerName(first.ServerId)}); lb2's Master_Down_Interval {Timeline.Seconds(DemoConfig.MasterDownInterval(DemoConfig.BackupPriority))} counts from lb1's last advert; {failed} queries failed meanwhile");
    }

    /// <summary>
    /// Plugs lb1 back in: it hears lb2's lower-priority adverts and preempts. A short gap is expected while the
    /// VIP and the client's ARP entry move back; the longest gap between two answered queries measures it.
    /// </summary>
    private async Task PreemptBackAsync()
    {
        await using var stream = _client.StartStream(DemoConfig.DataPort, ProbeInterval);
        await RequireAnswerAsync(stream, "before restoring lb1's link").ConfigureAwait(false);

        var restored = _timeline.Clock.Elapsed;
        await _lan.FrontOf(_lan.Lb1).RestoreLinkAsync().ConfigureAwait(false);
        _timeline.Event(restored, "restored lb1's link");
        var back = await WaitUntilAsync(async () =>
            await Lb1.VrrpStateAsync().ConfigureAwait(false) == ("MASTER", true)
            && !(await Lb2.VrrpStateAsync().ConfigureAwait(false)).HoldsVip, FailoverLimit, "lb1 preempting lb2").ConfigureAwait(false);

        // Queries for one more second, to see that the VIP answers from lb1 too.
        await Task.Delay(TimeSpan.FromSeconds(1), _cancellation).ConfigureAwait(false);
        var results = (await stream.StopAsync().ConfigureAwait(false)).Where(r => r.Started >= restored).ToList();
        var answered = results.Where(r => r.Succeeded).Select(r => r.Finished).Order().ToList();
        if (answered.Count == 0)
        {
            throw new DemoStepFailedException("no query through the VIP succeeded after lb1 came back");
        }

        var (gapStart, gap) = answered.Prepend(restored).Zip(answered, (before, after) => (before, after - before)).MaxBy(g => g.Item2);
        _timeline.Event(back, $"lb1 holds VIP {DemoLan.Vip} again, {Timeline.Seconds(back - restored)} after the restore (preempted lb2, now {(await Lb2.VrrpStateAsync().ConfigureAwait(false)).State})");
        _timeline.Detail($"as RFC 3768 says, lb1 ignored lb2's lower-priority adverts until its own Master_Down_Interval ({Timeline.Seconds(DemoConfig.MasterDownInterval(DemoConfig.MasterPriority))}) ran out");
        _timeline.Detail($"{answered.Count} queries answered, {results.Count - answered.Count} failed; longest gap between answers {Timeline.Seconds(gap)} (from {Timeline.Seconds(gapStart)})");
    }

    /// <summary>
    /// Shuts rs1's MariaDB down cleanly. MYSQL_CHECK on each node notices within delay_loop + connect_timeout and
    /// its retry, and takes rs1 out; meanwhile the forwarder's suspect hold-down and redispatch keep new queries
    /// off the dead server.
    /// </summary>
    private async Task TakeRealServerOutAsync()
    {
        var rs1 = _lan.Rs1.Address.ToString();
        var database = _databases.Single(d => d.Address.ToString() == rs1);
        await using var stream = _client.StartStream(DemoConfig.DataPort, TimeSpan.FromMilliseconds(100));
        await RequireAnswerAsync(stream, "before stopping rs1's MariaDB").ConfigureAwait(false);

        var stopped = _timeline.Clock.Elapsed;
        await database.StopAsync().ConfigureAwait(false);
        _timeline.Event(stopped, "stopped MariaDB on rs1 (mariadb-admin shutdown)");
        var down = await WaitUntilAsync(async () =>
        {
            var status = await Lb1.TryStatusAsync().ConfigureAwait(false);
            return RealServer(status, rs1, DemoConfig.DataPort) is { Up: false } && RealServer(status, rs1, DemoConfig.ManagementPort) is { Up: false };
        }, DetectionLimit, "lb1 taking rs1 out").ConfigureAwait(false);
        var report = RealServer(await Lb1.TryStatusAsync().ConfigureAwait(false), rs1, DemoConfig.DataPort);
        _timeline.Event(down, $"lb1's health check took rs1 out, {Timeline.Seconds(down - stopped)} after the stop: {rs1}:{DemoConfig.DataPort} up=false, last_check \"{report?.LastCheck}\"");

        // Queries for two more seconds: all of them must be answered, by rs2.
        await Task.Delay(TimeSpan.FromSeconds(2), _cancellation).ConfigureAwait(false);
        var results = (await stream.StopAsync().ConfigureAwait(false)).Where(r => r.Started >= stopped).ToList();
        var afterwards = results.Where(r => r.Started >= down).ToList();
        var during = results.Count - afterwards.Count;
        var failedDuring = results.Count(r => r.Started < down && !r.Succeeded);
        _timeline.Detail($"while it was detected: {during} queries, {failedDuring} failed");
        if (afterwards.Count == 0 || afterwards.Any(r => !r.Succeeded || r.ServerId != 2))
        {
            var odd = afterwards.FirstOrDefault(r => !r.Succeeded || r.ServerId != 2);
            throw new DemoStepFailedException($"after rs1 was taken out a query was not answered by rs2: {odd?.Error ?? ServerName(odd?.ServerId ?? 0)}");
        }

        var management = await _client.QueryAsync(DemoConfig.ManagementPort).ConfigureAwait(false);
        _timeline.Event($"queries keep succeeding: {afterwards.Count} more on VIP:{DemoConfig.DataPort}, all answered by rs2; VIP:{DemoConfig.ManagementPort} answered by {(management.Succeeded ? ServerName(management.ServerId) : "nobody: " + management.Error)}");
        if (!management.Succeeded)
        {
            throw new DemoStepFailedException($"VIP:{DemoConfig.ManagementPort} failed after rs1 was taken out: {management.Error}");
        }
    }

    private async Task RequireAnswerAsync(QueryStream stream, string when)
    {
        if (await stream.WaitForAsync(r => r.Succeeded, TimeSpan.FromSeconds(10), _cancellation).ConfigureAwait(false) is null)
        {
            var error = stream.Results.LastOrDefault()?.Error ?? "no query finished";
            throw new DemoStepFailedException($"queries through the VIP fail {when}: {error}");
        }
    }
}
