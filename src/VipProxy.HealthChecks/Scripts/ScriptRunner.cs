using System.Collections.Concurrent;
using System.ComponentModel;
using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using VipProxy.Config.Model;

namespace VipProxy.HealthChecks.Scripts;

/// <summary>
/// Runs check and notify scripts the way keepalived does, minus the shell: the program is executed directly with
/// its argument list (a shell runs only when the program is one), as the script's account, in <c>/</c>, with a
/// time limit after which it is killed with its children.
/// </summary>
/// <remarks>
/// Before the first run of a program as an account, its path is judged once by <see cref="ScriptSecurityRules"/>;
/// with <c>enable_script_security</c> an insecure script is refused (and logged once), without it only logged.
/// Thread-safe.
/// </remarks>
public sealed partial class ScriptRunner
{
    private const int MaxDetailLength = 200;
    private static readonly TimeSpan OutputDrainLimit = TimeSpan.FromMilliseconds(200);

    private readonly ScriptSettings _settings;
    private readonly ILogger _logger;
    private readonly TimeProvider _timeProvider;
    private readonly ConcurrentDictionary<string, ScriptSecurityVerdict> _verdicts = new(StringComparer.Ordinal);
    private readonly Lazy<ScriptAccount> _defaultAccount;

    /// <summary>Creates a runner.</summary>
    public ScriptRunner(ScriptSettings settings, ILogger? logger = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        _settings = settings;
        _logger = logger ?? NullLogger.Instance;
        _timeProvider = timeProvider ?? TimeProvider.System;
        _defaultAccount = new Lazy<ScriptAccount>(() => settings.DefaultUser ?? ResolvedAccount.DefaultAccount());
    }

    /// <summary>The settings in use.</summary>
    public ScriptSettings Settings => _settings;

    /// <summary>Runs a script to completion or until <paramref name="timeout"/>.</summary>
    /// <param name="command">The program and its arguments.</param>
    /// <param name="user">The script's own <c>user</c>; null uses <c>script_user</c> or keepalived's default.</param>
    /// <param name="timeout">Time limit; the script and its children are killed when it passes.</param>
    /// <param name="cancellationToken">Cancels the run (the script is killed) and throws.</param>
    public async Task<ScriptOutcome> RunAsync(
        ScriptCommand command, ScriptAccount? user, TimeSpan timeout, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(command);
        ScriptAccount account = user ?? _defaultAccount.Value;
        ResolvedAccount? resolved = ResolvedAccount.Resolve(account, out string accountError);
        if (resolved is null)
        {
            return new ScriptOutcome(ScriptOutcomeKind.Refused, null, accountError);
        }

        string? program = ScriptFileInspector.ResolveProgram(command.Program);
        if (program is null)
        {
            return new ScriptOutcome(ScriptOutcomeKind.FailedToStart, null, $"'{command.Program}' not found in PATH");
        }

        ScriptSecurityVerdict verdict = _verdicts.GetOrAdd($"{resolved.Uid}:{resolved.Gid}:{program}", _ => Judge(program, resolved));
        if (!verdict.IsSecure && _settings.EnableScriptSecurity)
        {
            return new ScriptOutcome(ScriptOutcomeKind.Refused, null, $"refused by enable_script_security: {verdict.Reason}");
        }

        ProcessStartInfo startInfo;
        try
        {
            startInfo = StartInfo(program, command.Arguments.Skip(1), resolved);
        }
        catch (InvalidOperationException e)
        {
            return new ScriptOutcome(ScriptOutcomeKind.FailedToStart, null, e.Message);
        }

        return await RunProcessAsync(startInfo, command.Text, timeout, cancellationToken).ConfigureAwait(false);
    }

    private async Task<ScriptOutcome> RunProcessAsync(
        ProcessStartInfo startInfo, string text, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var process = new Process { StartInfo = startInfo };
        try
        {
            process.Start();
        }
        catch (Win32Exception e)
        {
            return new ScriptOutcome(ScriptOutcomeKind.FailedToStart, null, $"cannot start '{text}': {e.Message}");
        }

        // The script gets no input; its output is read (so it never blocks on a full pipe) and only the last line is
        // kept, for the status.
        process.StandardInput.Close();
        var lastLine = new LastLine();
        Task readers = Task.WhenAll(lastLine.ReadAsync(process.StandardOutput), lastLine.ReadAsync(process.StandardError));

        using var timer = new CancellationTokenSource(timeout, _timeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(timer.Token, cancellationToken);
        try
        {
            await process.WaitForExitAsync(linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            Kill(process);
            cancellationToken.ThrowIfCancellationRequested();
            return new ScriptOutcome(ScriptOutcomeKind.TimedOut, null,
                $"'{text}' still running after {Probes.ProbeTarget.Seconds(timeout)}: killed");
        }

        // The output normally ends with the exit; a background child may hold the pipes open, so wait only briefly.
        await Task.WhenAny(readers, Task.Delay(OutputDrainLimit, _timeProvider, CancellationToken.None)).ConfigureAwait(false);
        int code = process.ExitCode;
        string said = lastLine.Value is { Length: > 0 } line ? $": {line}" : string.Empty;
        return new ScriptOutcome(ScriptOutcomeKind.Exited, code, $"'{text}' exited with {code}{said}");
    }

    private static ProcessStartInfo StartInfo(string program, IEnumerable<string> arguments, ResolvedAccount account)
    {
        var startInfo = new ProcessStartInfo
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = "/",
        };
        if (account.IsCurrentProcessAccount)
        {
            startInfo.FileName = program;
            foreach (string argument in arguments)
            {
                startInfo.ArgumentList.Add(argument);
            }
        }
        else
        {
            AccountSwitch.Detected.Apply(startInfo, account, program, arguments);
        }

        return startInfo;
    }

    private ScriptSecurityVerdict Judge(string program, ResolvedAccount account)
    {
        ScriptSecurityVerdict verdict = ScriptFileInspector.Check(program, account.Uid, account.Gid);
        if (!verdict.IsSecure)
        {
            if (_settings.EnableScriptSecurity)
            {
                LogRefused(_logger, program, account.ToString(), verdict.Reason);
            }
            else
            {
                LogInsecure(_logger, program, account.ToString(), verdict.Reason);
            }
        }

        return verdict;
    }

    private static void Kill(Process process)
    {
        try
        {
            process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // It exited between the timeout and the kill.
        }
    }

    [LoggerMessage(EventId = 400, Level = LogLevel.Error, Message = "Script {Program} (as {Account}) disabled by enable_script_security: {Reason}")]
    private static partial void LogRefused(ILogger logger, string program, string account, string reason);

    [LoggerMessage(EventId = 401, Level = LogLevel.Warning, Message = "Unsafe permissions for script {Program} (as {Account}): {Reason}; enable_script_security would refuse it")]
    private static partial void LogInsecure(ILogger logger, string program, string account, string reason);

    /// <summary>Keeps the last non-empty line printed on either stream, shortened.</summary>
    private sealed class LastLine
    {
        private volatile string _value = string.Empty;

        public string Value => _value;

        public async Task ReadAsync(StreamReader reader)
        {
            try
            {
                while (await reader.ReadLineAsync().ConfigureAwait(false) is { } line)
                {
                    line = line.Trim();
                    if (line.Length > 0)
                    {
                        _value = line.Length <= MaxDetailLength ? line : line[..MaxDetailLength] + "…";
                    }
                }
            }
            catch (IOException)
            {
                // The pipe went away with the disposed process.
            }
            catch (ObjectDisposedException)
            {
                // Same.
            }
        }
    }
}
