using System.ComponentModel;
using System.Diagnostics;
using System.Runtime.InteropServices;
using VipProxy.Lab;

namespace VipProxy.Demo;

/// <summary>
/// <c>vipproxy demo</c>: builds the LAN, plays <see cref="DemoScenario"/> on it and always tears it down, also
/// after a failed step or on SIGINT/SIGTERM.
/// </summary>
public static class DemoRunner
{
    public const int ExitOk = 0;
    public const int ExitFailed = 1;
    public const int ExitInterrupted = 130;

    private const int RecentLogLines = 40;

    public static async Task<int> RunAsync(TextWriter output, TextWriter errors, bool verbose)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(errors);
        if (MissingPrerequisite() is { } missing)
        {
            await errors.WriteLineAsync($"vipproxy demo: {missing}").ConfigureAwait(false);
            return ExitFailed;
        }

        // Our own handlers rather than the command line's, which would end the process two seconds after the
        // signal: tearing down takes longer, and a half-torn LAN is exactly what the demo promises not to leave.
        using var interrupted = new CancellationTokenSource();
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, Interrupt);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Interrupt);

        var timeline = new Timeline(output, Stopwatch.StartNew());
        var recent = new Queue<string>();
        void Log(string line)
        {
            lock (recent)
            {
                recent.Enqueue(line);
                if (recent.Count > RecentLogLines)
                {
                    recent.Dequeue();
                }

                if (verbose)
                {
                    errors.WriteLine(line);
                }
            }
        }

        var files = Directory.CreateTempSubdirectory("vipproxy-demo-").FullName;
        DemoLan? lan = null;
        DemoScenario? scenario = null;
        int exit;
        try
        {
            timeline.Event("building the LAN: client, lb1, lb2, rs1, rs2 as network namespaces on 198.18.0.0/15");
            lan = await DemoLan.CreateAsync(Log).ConfigureAwait(false);
            scenario = new DemoScenario(lan, timeline, files, Log, interrupted.Token);
            await scenario.RunAsync().ConfigureAwait(false);
            exit = ExitOk;
        }
        catch (OperationCanceledException) when (interrupted.IsCancellationRequested)
        {
            timeline.Event("interrupted");
            exit = ExitInterrupted;
        }
        catch (Exception e) when (e is DemoStepFailedException or InvalidOperationException or TimeoutException or IOException or Win32Exception)
        {
            timeline.Event($"FAILED: {e.Message}");
            await ReportAsync(errors, e, recent).ConfigureAwait(false);
            exit = ExitFailed;
        }
        finally
        {
            if (scenario is not null)
            {
                await scenario.DisposeAsync().ConfigureAwait(false);
            }
        }

        exit = await TearDownAsync(timeline, errors, lan, exit).ConfigureAwait(false);
        TryDelete(files);
        timeline.Event(exit == ExitOk ? "demo finished: OK" : $"demo finished: exit code {exit}");
        return exit;

        void Interrupt(PosixSignalContext context)
        {
            // Keep running: the flow notices the cancellation, then tears down and exits 130.
            context.Cancel = true;
            interrupted.Cancel();
        }
    }

    private static async Task<int> TearDownAsync(Timeline timeline, TextWriter errors, DemoLan? lan, int exit)
    {
        if (lan is null)
        {
            return exit;
        }

        timeline.Event($"tearing down: killing every process in the LAN and deleting its {lan.Lan.NamespaceNames.Count} namespaces");
        try
        {
            await lan.DisposeAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (e is InvalidOperationException or TimeoutException or IOException or Win32Exception)
        {
            await errors.WriteLineAsync($"vipproxy demo: teardown failed: {e.Message}").ConfigureAwait(false);
        }

        var left = lan.Lan.NamespaceNames.Where(name => File.Exists(Path.Combine("/run/netns", name))).ToList();
        if (left.Count > 0)
        {
            timeline.Event($"namespaces left behind: {string.Join(' ', left)} (remove with: ip netns delete NAME)");
            return ExitFailed;
        }

        timeline.Event($"torn down: no namespace {lan.Lan.Prefix}-* left");
        return exit;
    }

    private static async Task ReportAsync(TextWriter errors, Exception e, Queue<string> recent)
    {
        await errors.WriteLineAsync($"vipproxy demo: {e.Message}").ConfigureAwait(false);
        string[] lines;
        lock (recent)
        {
            lines = [.. recent];
        }

        if (lines.Length > 0)
        {
            await errors.WriteLineAsync($"last {lines.Length} lines of the LAN's log (run with --verbose for all):").ConfigureAwait(false);
            foreach (var line in lines)
            {
                await errors.WriteLineAsync("  " + line).ConfigureAwait(false);
            }
        }
    }

    /// <summary>What the demo cannot run without, as a sentence; null when all is there.</summary>
    private static string? MissingPrerequisite()
    {
        if (!Environment.IsPrivilegedProcess)
        {
            return "needs root: it creates network namespaces (run it with sudo)";
        }

        string[] programs = ["ip", MariaDbServer.ServerProgram, MariaDbServer.InstallProgram, MariaDbServer.ClientProgram];
        var absent = programs.Where(p => !OnPath(p)).ToList();
        return absent.Count == 0
            ? null
            : $"needs {string.Join(", ", absent)} (iproute2, MariaDB server and client: see scripts/install-deps.sh)";
    }

    private static bool OnPath(string program)
    {
        var path = Environment.GetEnvironmentVariable("PATH") ?? "";
        return path.Split(':', StringSplitOptions.RemoveEmptyEntries).Append("/usr/sbin").Append("/sbin")
            .Any(directory => File.Exists(Path.Combine(directory, program)));
    }

    private static void TryDelete(string directory)
    {
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
            // A node killed late may still hold its socket file; it is only a file under /tmp.
        }
    }
}
