using System.Globalization;

namespace VipProxy.Scenario.Tests.Faults;

/// <summary>
/// A process's descriptors and resident memory from /proc (pids are global: the scenario LANs have no pid
/// namespace). Descriptors are split by kind: sockets are connections and listeners; pipes are the event loops'
/// splice pools (each loop keeps up to 16 idle pipes on purpose, so pipes are bounded, not leaked).
/// </summary>
internal sealed record ProcessFootprint(int Descriptors, int Sockets, int Pipes, long ResidentKiB, long AnonymousKiB, IReadOnlyDictionary<string, int> Kinds)
{
    public int NonPipeDescriptors => Descriptors - Pipes;

    public static ProcessFootprint Of(int pid)
    {
        int descriptors = 0, sockets = 0, pipes = 0;
        var kinds = new SortedDictionary<string, int>(StringComparer.Ordinal);
        foreach (var entry in Directory.EnumerateFileSystemEntries($"/proc/{pid}/fd"))
        {
            string? target;
            try
            {
                target = new FileInfo(entry).LinkTarget;
            }
            catch (IOException)
            {
                continue; // closed while we looked
            }

            if (target is null)
            {
                continue;
            }

            descriptors++;
            string kind = target.StartsWith("anon_inode:", StringComparison.Ordinal) || !target.Contains(":[", StringComparison.Ordinal)
                ? target                                                     // anon_inode:[eventfd], a file's path
                : target[..target.IndexOf(':', StringComparison.Ordinal)];   // socket:[123], pipe:[456]
            kinds[kind] = kinds.GetValueOrDefault(kind) + 1;
            if (target.StartsWith("socket:", StringComparison.Ordinal))
            {
                sockets++;
            }
            else if (target.StartsWith("pipe:", StringComparison.Ordinal))
            {
                pipes++;
            }
        }

        long rss = 0, anonymous = 0;
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                rss = KiB(line);
            }
            else if (line.StartsWith("RssAnon:", StringComparison.Ordinal))
            {
                anonymous = KiB(line);
            }
        }

        return new ProcessFootprint(descriptors, sockets, pipes, rss, anonymous, kinds);
    }

    /// <summary>Descriptor kinds whose count differs from <paramref name="baseline"/>'s, e.g. "anon_inode[eventfd] +2".</summary>
    public string KindsChangedSince(ProcessFootprint baseline)
    {
        var changes = Kinds.Keys.Union(baseline.Kinds.Keys)
            .Select(k => (Kind: k, Delta: Kinds.GetValueOrDefault(k) - baseline.Kinds.GetValueOrDefault(k)))
            .Where(c => c.Delta != 0)
            .Select(c => $"{c.Kind} {c.Delta:+0;-0}");
        return string.Join(", ", changes) is { Length: > 0 } text ? text : "none";
    }

    public override string ToString() =>
        $"{Descriptors} fds ({Sockets} sockets, {Pipes} pipes), RSS {ResidentKiB / 1024.0:F1} MiB (anonymous {AnonymousKiB / 1024.0:F1} MiB)";

    private static long KiB(string statusLine) =>
        long.Parse(statusLine[(statusLine.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
}
