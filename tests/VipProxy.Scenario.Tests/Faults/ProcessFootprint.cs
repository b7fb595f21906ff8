using System.Globalization;

namespace VipProxy.Scenario.Tests.Faults;

/// <summary>
/// A process's descriptors and resident memory from /proc (pids are global: the scenario LANs have no pid
/// namespace). Descriptors are split by kind: sockets are connections and listeners; pipes are the splice relay's
/// pool (KernelPipePool keeps up to 64 idle pipes per size on purpose, so pipes are bounded, not leaked).
/// </summary>
internal sealed record ProcessFootprint(int Descriptors, int Sockets, int Pipes, long ResidentKiB)
{
    public int NonPipeDescriptors => Descriptors - Pipes;

    public static ProcessFootprint Of(int pid)
    {
        int descriptors = 0, sockets = 0, pipes = 0;
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
            if (target.StartsWith("socket:", StringComparison.Ordinal))
            {
                sockets++;
            }
            else if (target.StartsWith("pipe:", StringComparison.Ordinal))
            {
                pipes++;
            }
        }

        long rss = 0;
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                rss = long.Parse(line["VmRSS:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
            }
        }

        return new ProcessFootprint(descriptors, sockets, pipes, rss);
    }

    public override string ToString() =>
        $"{Descriptors} fds ({Sockets} sockets, {Pipes} pipes), RSS {ResidentKiB / 1024.0:F1} MiB";
}
