using System.Diagnostics;

namespace VipProxy.Lab;

/// <summary>
/// A process running inside a host's namespace. Its stdout and stderr go line by line to the test log and are kept
/// for assertions. `ip netns exec` execs the program itself, so <see cref="Id"/> is the program's own pid.
/// </summary>
public sealed class LanProcess : IAsyncDisposable
{
    public static readonly TimeSpan DefaultStopGrace = TimeSpan.FromSeconds(5);

    // After exit, output still in the pipe is read for at most this long: a daemon's child may hold the pipe open.
    private static readonly TimeSpan OutputDrainLimit = TimeSpan.FromSeconds(2);

    private readonly Process _process;
    private readonly SafeLog _log;
    private readonly string _tag;
    private readonly Lock _gate = new();
    private readonly List<string> _lines = [];
    private readonly List<OutputWaiter> _waiters = [];
    private readonly TaskCompletionSource _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _stdoutClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _stderrClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    internal LanProcess(LanHost host, string program, IEnumerable<string> arguments,
        IReadOnlyDictionary<string, string?>? environment, SafeLog log)
    {
        Host = host;
        Program = program;
        _log = log;
        var startInfo = CommandRunner.StartInfo(Ip.Program, ["netns", "exec", host.NamespaceName, program, .. arguments]);
        foreach (var (name, value) in environment ?? new Dictionary<string, string?>())
        {
            startInfo.Environment[name] = value;
        }

        _process = new Process { StartInfo = startInfo, EnableRaisingEvents = true };
        _process.OutputDataReceived += (_, e) => OnLine(e.Data, isError: false);
        _process.ErrorDataReceived += (_, e) => OnLine(e.Data, isError: true);
        _process.Exited += (_, _) => _exited.TrySetResult();
        _process.Start();
        Id = _process.Id;
        _tag = $"{host.Name}:{Path.GetFileName(program)}:{Id}";
        _log.Write($"[{_tag}] started: {program} {string.Join(' ', arguments)}");
        _process.StandardInput.Close();
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public LanHost Host { get; }

    public string Program { get; }

    public int Id { get; }

    public bool HasExited => _exited.Task.IsCompleted;

    /// <summary>The exit code; 128 + N when signal N killed the process.</summary>
    public int ExitCode => HasExited
        ? _process.ExitCode
        : throw new InvalidOperationException($"[{_tag}] is still running");

    /// <summary>A snapshot of every line printed so far, stdout and stderr interleaved as they arrived.</summary>
    public IReadOnlyList<string> OutputLines
    {
        get
        {
            lock (_gate)
            {
                return [.. _lines];
            }
        }
    }

    /// <summary>Waits for the process to exit and its output to be read; throws TimeoutException if it does not.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        try
        {
            await _exited.Task.WaitAsync(timeout).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"[{_tag}] still running after {timeout}");
        }

        await Task.WhenAny(Task.WhenAll(_stdoutClosed.Task, _stderrClosed.Task), Task.Delay(OutputDrainLimit))
            .ConfigureAwait(false);
        return _process.ExitCode;
    }

    /// <summary>
    /// Waits until a line contains <paramref name="text"/> (e.g. a daemon's "listening" message) and returns it.
    /// Fails at once if the process exits first, instead of waiting for the timeout.
    /// </summary>
    public Task<string> WaitForOutputAsync(string text, TimeSpan timeout) =>
        WaitForOutputAsync(line => line.Contains(text, StringComparison.Ordinal), timeout, $"'{text}'");

    public async Task<string> WaitForOutputAsync(Func<string, bool> match, TimeSpan timeout, string? description = null)
    {
        ArgumentNullException.ThrowIfNull(match);
        var waiter = new OutputWaiter(match);
        lock (_gate)
        {
            var earlier = _lines.FirstOrDefault(match);
            if (earlier is not null)
            {
                return earlier;
            }

            _waiters.Add(waiter);
        }

        var outputEnded = Task.WhenAll(_stdoutClosed.Task, _stderrClosed.Task);
        var finished = await Task.WhenAny(waiter.Found.Task, outputEnded, Task.Delay(timeout)).ConfigureAwait(false);
        lock (_gate)
        {
            _waiters.Remove(waiter);
        }

        if (waiter.Found.Task.IsCompleted)
        {
            return await waiter.Found.Task.ConfigureAwait(false);
        }

        var why = finished == outputEnded ? "closed its output" : $"printed nothing matching in {timeout}";
        throw new TimeoutException($"[{_tag}] {why}; waited for {description ?? "a matching line"}");
    }

    public void Signal(UnixSignal signal)
    {
        _log.Write($"[{_tag}] sending SIG{signal.ToString().ToUpperInvariant()}");
        if (signal == UnixSignal.Kill)
        {
            KillTree();
        }
        else if (!HasExited)
        {
            Libc.SendSignal(Id, signal);
        }
    }

    /// <summary>SIGTERM, then SIGKILL (with any children) if it has not exited after the grace period.</summary>
    public async Task<int> StopAsync(TimeSpan? grace = null)
    {
        if (!HasExited)
        {
            Signal(UnixSignal.Term);
            if (!await ExitsWithinAsync(grace ?? DefaultStopGrace).ConfigureAwait(false))
            {
                Signal(UnixSignal.Kill);
            }
        }

        return await WaitForExitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
    }

    /// <summary>Kills outright: a disposed process is teardown, not a graceful-shutdown scenario.</summary>
    public async ValueTask DisposeAsync()
    {
        if (!HasExited)
        {
            _log.Write($"[{_tag}] killed by teardown");
            KillTree();
        }

        await ExitsWithinAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        _process.Dispose();
    }

    private async Task<bool> ExitsWithinAsync(TimeSpan timeout) =>
        await Task.WhenAny(_exited.Task, Task.Delay(timeout)).ConfigureAwait(false) == _exited.Task;

    private void KillTree()
    {
        try
        {
            _process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // Already exited (or already disposed): nothing left to kill.
        }
    }

    private void OnLine(string? line, bool isError)
    {
        if (line is null)
        {
            (isError ? _stderrClosed : _stdoutClosed).TrySetResult();
            return;
        }

        _log.Write(isError ? $"[{_tag}:err] {line}" : $"[{_tag}] {line}");
        List<OutputWaiter> matched;
        lock (_gate)
        {
            _lines.Add(line);
            matched = _waiters.Where(w => w.Match(line)).ToList();
        }

        foreach (var waiter in matched)
        {
            waiter.Found.TrySetResult(line);
        }
    }

    private sealed class OutputWaiter(Func<string, bool> match)
    {
        public Func<string, bool> Match { get; } = match;

        public TaskCompletionSource<string> Found { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
