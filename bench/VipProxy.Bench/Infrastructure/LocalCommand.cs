using System.Diagnostics;

namespace VipProxy.Bench.Infrastructure;

/// <summary>
/// Runs a short command in the harness's own (root) namespace: git, version queries, gnuplot. Never used for
/// traffic, which stays inside the LAN's namespaces.
/// </summary>
internal static class LocalCommand
{
    public sealed record Output(int ExitCode, string StandardOutput, string StandardError)
    {
        public bool Succeeded => ExitCode == 0;

        /// <summary>stdout, or stderr for the tools that print their version there (nginx, wrk, keepalived).</summary>
        public string Text => (StandardOutput.Length > 0 ? StandardOutput : StandardError).Trim();
    }

    public static async Task<Output> RunAsync(string program, IEnumerable<string> arguments, string? workingDirectory = null,
        TimeSpan? timeout = null)
    {
        var startInfo = new ProcessStartInfo(program)
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
        };
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        try
        {
            using var process = Process.Start(startInfo) ?? throw new InvalidOperationException($"{program} did not start");
            process.StandardInput.Close();
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            try
            {
                await Task.WhenAll(process.WaitForExitAsync(), stdout, stderr).WaitAsync(timeout ?? TimeSpan.FromSeconds(30));
            }
            catch (TimeoutException)
            {
                process.Kill(entireProcessTree: true);
                return new Output(-1, "", $"{program} timed out");
            }

            return new Output(process.ExitCode, await stdout, await stderr);
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            // Not installed: the caller reports it (e.g. "gnuplot not found") instead of crashing the run.
            return new Output(-1, "", e.Message);
        }
    }

    /// <summary>The first line of a command's output, or "unavailable".</summary>
    public static async Task<string> FirstLineAsync(string program, params string[] arguments)
    {
        var output = await RunAsync(program, arguments, timeout: TimeSpan.FromSeconds(10));
        var line = output.Text.Split('\n').FirstOrDefault()?.Trim();
        return string.IsNullOrEmpty(line) || output.ExitCode < 0 ? "unavailable" : line;
    }
}
