using System.ComponentModel;
using System.Diagnostics;
using Microsoft.Extensions.Logging;
using VipProxy.Config.Model;

namespace VipProxy.Vrrp.Runtime;

/// <summary>
/// Runs scripts with <see cref="Process"/> and <see cref="ProcessStartInfo.ArgumentList"/>: the arguments reach the
/// program exactly as the config split them, never through a shell (a shell runs only if the config names one). A
/// script whose account is not root runs through <c>runuser -u USER [-g GROUP] --</c>, which execs the command
/// directly (no shell) as that user; keepalived's own <c>script_user</c> does the same job with setuid. A run that
/// outlives its timeout is killed with its whole process tree and counts as failed.
/// </summary>
public sealed partial class ProcessScriptRunner(ILogger logger) : IScriptRunner
{
    /// <summary>runuser's usual place; PATH may lack /usr/sbin under systemd.</summary>
    private static readonly string RunUser =
        new[] { "/usr/sbin/runuser", "/sbin/runuser", "/usr/bin/runuser" }.FirstOrDefault(File.Exists) ?? "runuser";

    /// <summary>The argv actually executed for <paramref name="invocation"/> (runuser prefix for non-root accounts).</summary>
    public static IReadOnlyList<string> CommandLine(ScriptInvocation invocation)
    {
        ArgumentNullException.ThrowIfNull(invocation);
        var user = invocation.User;
        if (user is null || user.User is "root" or "0")
        {
            return invocation.Arguments;
        }

        var prefix = new List<string> { RunUser, "-u", user.User };
        if (user.Group is not null)
        {
            prefix.Add("-g");
            prefix.Add(user.Group);
        }

        prefix.Add("--");
        return [.. prefix, .. invocation.Arguments];
    }

    /// <inheritdoc/>
    public async Task<ScriptOutcome> RunAsync(ScriptInvocation invocation, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(invocation);
        var argv = CommandLine(invocation);
        var startInfo = new ProcessStartInfo(argv[0])
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in argv.Skip(1))
        {
            startInfo.ArgumentList.Add(argument);
        }

        using var process = new Process { StartInfo = startInfo };
        process.OutputDataReceived += (_, e) => LogOutput(e.Data);
        process.ErrorDataReceived += (_, e) => LogOutput(e.Data);
        try
        {
            process.Start();
        }
        catch (Win32Exception e)
        {
            LogNotStarted(logger, invocation.ToString(), e.Message);
            return ScriptOutcome.NotStarted;
        }

        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(invocation.Timeout > TimeSpan.Zero ? invocation.Timeout : Timeout.InfiniteTimeSpan);
        try
        {
            await process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            Kill(process);
            if (cancellationToken.IsCancellationRequested)
            {
                throw;
            }

            LogTimedOut(logger, invocation.ToString(), invocation.Timeout.TotalSeconds);
            return ScriptOutcome.TimedOut;
        }

        return process.ExitCode == 0 ? ScriptOutcome.Succeeded : ScriptOutcome.Failed;

        void LogOutput(string? line)
        {
            if (line is not null)
            {
                LogScriptOutput(logger, argv[0], line);
            }
        }
    }

    private static void Kill(Process process)
    {
        try
        {
            process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // Exited meanwhile.
        }
    }

    [LoggerMessage(EventId = 750, Level = LogLevel.Warning, Message = "Script '{Script}' could not start: {Reason}")]
    private static partial void LogNotStarted(ILogger logger, string script, string reason);

    [LoggerMessage(EventId = 751, Level = LogLevel.Warning, Message = "Script '{Script}' timed out after {Seconds} s and was killed")]
    private static partial void LogTimedOut(ILogger logger, string script, double seconds);

    [LoggerMessage(EventId = 752, Level = LogLevel.Debug, Message = "{Program}: {Line}")]
    private static partial void LogScriptOutput(ILogger logger, string program, string line);
}
