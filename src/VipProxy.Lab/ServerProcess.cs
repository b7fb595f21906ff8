using System.Diagnostics;

namespace VipProxy.Lab;

/// <summary>A server process started by a test, on this host or inside a test LAN host.</summary>
internal interface IServerProcess : IAsyncDisposable
{
    bool HasExited { get; }

    IReadOnlyList<string> OutputLines { get; }

    /// <summary>True when it exited within the timeout.</summary>
    Task<bool> WaitForExitAsync(TimeSpan timeout);

    /// <summary>SIGKILL, with any children.</summary>
    void Kill();
}

/// <summary>A process in the test runner's own namespace, its output kept for diagnostics.</summary>
internal sealed class LocalServerProcess : IServerProcess
{
    private readonly Process _process;
    private readonly Lock _gate = new();
    private readonly List<string> _lines = [];
    private readonly TaskCompletionSource _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public LocalServerProcess(string program, IEnumerable<string> arguments, Action<string> log)
    {
        var startInfo = new ProcessStartInfo(program)
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (string argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        _process = new Process { StartInfo = startInfo, EnableRaisingEvents = true };
        string tag = Path.GetFileName(program);
        DataReceivedEventHandler onLine = (_, e) =>
        {
            if (e.Data is null)
            {
                return;
            }

            lock (_gate)
            {
                _lines.Add(e.Data);
            }

            log($"[{tag}] {e.Data}");
        };
        _process.OutputDataReceived += onLine;
        _process.ErrorDataReceived += onLine;
        _process.Exited += (_, _) => _exited.TrySetResult();
        _process.Start();
        _process.StandardInput.Close();
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public bool HasExited => _exited.Task.IsCompleted;

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

    public async Task<bool> WaitForExitAsync(TimeSpan timeout) =>
        await Task.WhenAny(_exited.Task, Task.Delay(timeout)).ConfigureAwait(false) == _exited.Task;

    public void Kill()
    {
        try
        {
            _process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
    }

    public async ValueTask DisposeAsync()
    {
        Kill();
        await WaitForExitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
        _process.Dispose();
    }
}

/// <summary>A process inside a test LAN host.</summary>
internal sealed class LanServerProcess(LanProcess process) : IServerProcess
{
    public bool HasExited => process.HasExited;

    public IReadOnlyList<string> OutputLines => process.OutputLines;

    public async Task<bool> WaitForExitAsync(TimeSpan timeout)
    {
        try
        {
            await process.WaitForExitAsync(timeout).ConfigureAwait(false);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }

    public void Kill() => process.Signal(UnixSignal.Kill);

    public ValueTask DisposeAsync() => process.DisposeAsync();
}
