using System.Diagnostics;

namespace VipProxy.Lab;

/// <summary>
/// Runs a short command to completion with a deadline, then logs what it printed (a quiet query logs only when it
/// fails, so polling does not flood the test log).
/// </summary>
internal static class CommandRunner
{
    public static async Task<CommandResult> RunAsync(
        string program, IReadOnlyList<string> arguments, TimeSpan timeout, SafeLog log, string tag, bool quiet = false)
    {
        using var process = new Process { StartInfo = StartInfo(program, arguments) };
        process.Start();

        // stdin is closed at once so a command never waits on (or steals) the test runner's input.
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        try
        {
            // Waiting for the streams too: a command is done when it exited and its output is complete.
            await Task.WhenAll(process.WaitForExitAsync(), stdout, stderr).WaitAsync(timeout).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"[{tag}] {program} {string.Join(' ', arguments)} still running after {timeout}");
        }

        var result = new CommandResult(process.ExitCode, await stdout.ConfigureAwait(false), await stderr.ConfigureAwait(false));
        if (quiet && result.Succeeded)
        {
            return result;
        }

        foreach (var line in Lines(result.StandardOutput))
        {
            log.Write($"[{tag}] {line}");
        }

        foreach (var line in Lines(result.StandardError))
        {
            log.Write($"[{tag}:err] {line}");
        }

        if (!result.Succeeded)
        {
            log.Write($"[{tag}] exit code {result.ExitCode}");
        }

        return result;
    }

    public static ProcessStartInfo StartInfo(string program, IEnumerable<string> arguments)
    {
        var startInfo = new ProcessStartInfo(program)
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        return startInfo;
    }

    private static string[] Lines(string text) =>
        text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}
