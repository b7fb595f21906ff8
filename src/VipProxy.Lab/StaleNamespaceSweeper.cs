namespace VipProxy.Lab;

/// <summary>Removes namespaces a crashed test run left behind: those of the prefix family whose creator is dead.</summary>
internal static class StaleNamespaceSweeper
{
    /// <summary>Returns the names of the namespaces it removed.</summary>
    public static async Task<IReadOnlyList<string>> SweepAsync(Action<string>? log = null)
    {
        var safeLog = new SafeLog(log ?? (_ => { }));
        var removed = new List<string>();
        foreach (var name in Ip.ListNamespaces())
        {
            if (NamePrefix.CreatorPid(name) is not { } creator || IsAlive(creator))
            {
                continue;
            }

            safeLog.Write($"removing stale namespace {name} (creator pid {creator} is gone)");

            // Another run may be sweeping the same leftovers at this moment: losing that race is fine.
            if (await Ip.DestroyNamespaceAsync(safeLog, name).ConfigureAwait(false) || !Ip.NamespaceExists(name))
            {
                removed.Add(name);
            }
        }

        return removed;
    }

    /// <summary>
    /// A pid reused by an unrelated process reads as alive: the sweep then keeps a stale namespace, which is the
    /// safe mistake.
    /// </summary>
    private static bool IsAlive(int pid) => Directory.Exists($"/proc/{pid}");
}
