using System.Diagnostics;
using VipProxy.Lab;
using Xunit.Abstractions;

namespace VipProxy.Scenario.Tests;

[Collection(NetworkScenariosCollection.Name)]
[Trait("Category", "Root")]
public sealed class LanTeardownTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task After_dispose_no_namespace_veth_or_process_of_the_lan_remains()
    {
        var lan = await Lan.CreateAsync(output.WriteLine, "a", "b");
        var sleepers = lan.Hosts.Select(h => h.Start("sleep", "600")).ToList();

        // A process the library did not start: a daemon that forked into the background.
        (await lan.Host("a").RunShellAsync("sleep 600 >/dev/null 2>&1 &")).EnsureSuccess("background sleep");
        var namespaceIds = sleepers.Select(s => NetworkNamespaceOf(s.Id)).ToHashSet();
        Assert.Equal(2, namespaceIds.Count);
        Assert.Equal(3, ProcessesIn(namespaceIds).Count);

        await lan.DisposeAsync();

        Assert.DoesNotContain(await NamespacesListedAsync(), name => name.StartsWith(lan.Prefix, StringComparison.Ordinal));
        Assert.Empty(ProcessesIn(namespaceIds));
        Assert.All(sleepers, s => Assert.True(s.HasExited));
        var rootLinks = await RunAsync("ip", "-o", "link", "show");
        Assert.DoesNotContain(lan.Prefix, rootLinks, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Creating_a_lan_sweeps_namespaces_whose_creator_died_and_keeps_those_of_living_creators()
    {
        var deadPid = await DeadPidAsync();
        var stale = $"vpt{deadPid}zz-stale";
        var living = $"vpt{Environment.ProcessId}zz-living";
        await RunAsync("ip", "netns", "add", stale);
        await RunAsync("ip", "netns", "add", living);
        try
        {
            using var leftover = Process.Start("ip", ["netns", "exec", stale, "sleep", "600"]);
            await Eventually.TrueAsync(() => ProcessesIn([NetworkNamespaceOf(leftover.Id)]).Count == 1, Timeout);

            await using var lan = await Lan.CreateAsync(output.WriteLine);

            var listed = await NamespacesListedAsync();
            Assert.DoesNotContain(stale, listed);
            Assert.Contains(living, listed);
            Assert.True(leftover.WaitForExit(Timeout), "the process left in the stale namespace was not killed");
        }
        finally
        {
            await RunAsync("ip", "netns", "delete", living);
        }
    }

    private static async Task<int> DeadPidAsync()
    {
        using var process = Process.Start("true");
        await process.WaitForExitAsync();
        return process.Id;
    }

    private static async Task<IReadOnlyList<string>> NamespacesListedAsync() =>
        (await RunAsync("ip", "netns", "list"))
        .Split('\n', StringSplitOptions.RemoveEmptyEntries)
        .Select(line => line.Split(' ')[0])
        .ToList();

    /// <summary>The kernel's identity of a process's network namespace, e.g. "net:[4026532281]".</summary>
    private static string NetworkNamespaceOf(int pid) =>
        new FileInfo($"/proc/{pid}/ns/net").LinkTarget ?? throw new InvalidOperationException($"no pid {pid}");

    /// <summary>Every process on the machine whose network namespace is one of <paramref name="namespaceIds"/>.</summary>
    private static List<int> ProcessesIn(HashSet<string> namespaceIds)
    {
        var found = new List<int>();
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(directory), out var pid))
            {
                try
                {
                    if (new FileInfo(Path.Combine(directory, "ns", "net")).LinkTarget is { } id && namespaceIds.Contains(id))
                    {
                        found.Add(pid);
                    }
                }
                catch (IOException)
                {
                    // The process ended while we looked.
                }
                catch (UnauthorizedAccessException)
                {
                    // A zombie or kernel thread without a namespace link.
                }
            }
        }

        return found;
    }

    private static async Task<string> RunAsync(string program, params string[] arguments)
    {
        using var process = Process.Start(new ProcessStartInfo(program, arguments) { RedirectStandardOutput = true })!;
        var stdout = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, $"{program} {string.Join(' ', arguments)} exited {process.ExitCode}");
        return stdout;
    }
}
