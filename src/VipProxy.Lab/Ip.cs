using System.Globalization;

namespace VipProxy.Lab;

/// <summary>
/// The iproute2 commands the library runs from the root namespace. Every command that changes something names a
/// test namespace (`ip -n NS …`, `ip netns …`), so nothing here can alter the root namespace's own network.
/// </summary>
internal static class Ip
{
    public static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(30);

    private const string NetnsDirectory = "/run/netns";

    /// <summary>The `ip` binary: the test runner's PATH may lack /usr/sbin.</summary>
    public static string Program { get; } =
        new[] { "/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip" }.FirstOrDefault(File.Exists) ?? "ip";

    public static Task<CommandResult> TryAsync(SafeLog log, params string[] arguments)
    {
        log.Write($"$ ip {string.Join(' ', arguments)}");
        return CommandRunner.RunAsync(Program, arguments, CommandTimeout, log, "ip");
    }

    public static async Task<CommandResult> RunAsync(SafeLog log, params string[] arguments) =>
        (await TryAsync(log, arguments).ConfigureAwait(false)).EnsureSuccess($"ip {string.Join(' ', arguments)}");

    /// <summary>A read-only query: neither the command nor its output is logged unless it fails.</summary>
    public static async Task<CommandResult> QueryAsync(SafeLog log, params string[] arguments) =>
        (await CommandRunner.RunAsync(Program, arguments, CommandTimeout, log, "ip", quiet: true).ConfigureAwait(false))
        .EnsureSuccess($"ip {string.Join(' ', arguments)}");

    /// <summary>Named namespaces, read from where `ip netns add` mounts them.</summary>
    public static IReadOnlyList<string> ListNamespaces() =>
        Directory.Exists(NetnsDirectory)
            ? Directory.EnumerateFiles(NetnsDirectory).Select(Path.GetFileName).OfType<string>().ToList()
            : [];

    public static bool NamespaceExists(string name) => File.Exists(Path.Combine(NetnsDirectory, name));

    /// <summary>
    /// Kills every process inside the namespace, then deletes it. `ip netns delete` only unmounts the name: a
    /// process still inside would keep the namespace, its veths and its addresses alive.
    /// </summary>
    public static async Task<bool> DestroyNamespaceAsync(SafeLog log, string name)
    {
        if (!NamespaceExists(name))
        {
            return true;
        }

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        var pids = await PidsInNamespaceAsync(log, name).ConfigureAwait(false);
        if (pids.Count > 0)
        {
            log.Write($"killing processes left in {name}: {string.Join(' ', pids)}");
        }

        while (pids.Count > 0 && DateTime.UtcNow < deadline)
        {
            foreach (var pid in pids)
            {
                Libc.SendSignal(pid, UnixSignal.Kill);
            }

            await Task.Delay(20).ConfigureAwait(false);
            pids = await PidsInNamespaceAsync(log, name).ConfigureAwait(false);
        }

        if (pids.Count > 0)
        {
            log.Write($"namespace {name} still holds processes {string.Join(' ', pids)}");
        }

        var deleted = await TryAsync(log, "netns", "delete", name).ConfigureAwait(false);
        return (deleted.Succeeded || !NamespaceExists(name)) && pids.Count == 0;
    }

    /// <summary>Empty when the namespace has gone (a concurrent sweep may delete it first).</summary>
    private static async Task<IReadOnlyList<int>> PidsInNamespaceAsync(SafeLog log, string name)
    {
        var result = await CommandRunner.RunAsync(Program, ["netns", "pids", name], CommandTimeout, log, "ip",
            quiet: true).ConfigureAwait(false);
        return result.Succeeded
            ? result.StandardOutput
                .Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(pid => int.Parse(pid, CultureInfo.InvariantCulture))
                .ToList()
            : [];
    }
}
