using System.Diagnostics;
using System.Text;
using Xunit.Abstractions;

namespace VipProxy.Scenario.Tests.Demo;

/// <summary>
/// <c>dotnet vipproxy.dll ARGS</c> run from the root namespace (the demo makes its own namespaces), its output kept
/// and echoed to the test log as it comes.
/// </summary>
internal sealed class DemoProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ITestOutputHelper _log;
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();

    private DemoProcess(Process process, ITestOutputHelper log)
    {
        _process = process;
        _log = log;
    }

    public string StandardOutput
    {
        get
        {
            lock (_stdout)
            {
                return _stdout.ToString();
            }
        }
    }

    public string StandardError
    {
        get
        {
            lock (_stderr)
            {
                return _stderr.ToString();
            }
        }
    }

    public static DemoProcess Start(ITestOutputHelper log, params string[] arguments)
    {
        string dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";
        var startInfo = new ProcessStartInfo(dotnet)
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        startInfo.ArgumentList.Add(Vrrp.VipProxyDll);
        foreach (string argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        var demo = new DemoProcess(new Process { StartInfo = startInfo }, log);
        demo._process.OutputDataReceived += (_, e) => demo.OnLine(demo._stdout, e.Data, "");
        demo._process.ErrorDataReceived += (_, e) => demo.OnLine(demo._stderr, e.Data, "err: ");
        demo._process.Start();
        demo._process.StandardInput.Close();
        demo._process.BeginOutputReadLine();
        demo._process.BeginErrorReadLine();
        return demo;
    }

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        await _process.WaitForExitAsync().WaitAsync(timeout);
        return _process.ExitCode;
    }

    public async Task WaitForLineAsync(string text, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (!StandardOutput.Contains(text, StringComparison.Ordinal))
        {
            Assert.False(_process.HasExited, $"vipproxy demo exited before printing '{text}'");
            Assert.True(clock.Elapsed < timeout, $"vipproxy demo did not print '{text}' within {timeout}");
            await Task.Delay(50);
        }
    }

    /// <summary>SIGINT, as Ctrl-C in a terminal.</summary>
    public void Interrupt()
    {
        using var kill = Process.Start("kill", ["-INT", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
    }

    public ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            // A hung demo: SIGINT gives it the chance to tear down that a kill would not.
            Interrupt();
            if (!_process.WaitForExit(TimeSpan.FromSeconds(30)))
            {
                _process.Kill(entireProcessTree: true);
            }
        }

        _process.Dispose();
        return ValueTask.CompletedTask;
    }

    private void OnLine(StringBuilder sink, string? line, string tag)
    {
        if (line is null)
        {
            return;
        }

        lock (sink)
        {
            sink.Append(line).Append('\n');
        }

        try
        {
            _log.WriteLine(tag + line);
        }
        catch (InvalidOperationException)
        {
            // The test has finished: nobody to tell.
        }
    }
}
