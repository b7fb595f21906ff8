using System.Runtime.InteropServices;

namespace VipProxy.Host.Platform;

/// <summary>
/// Raises RLIMIT_NOFILE's soft limit to its hard limit: each proxied connection holds two sockets (and two
/// pipes with splice), so the default soft limit of 1024 would cap a busy node at a few hundred clients.
/// </summary>
public static partial class FileDescriptorLimit
{
    private const int RlimitNofile = 7;

    [StructLayout(LayoutKind.Sequential)]
    private struct ResourceLimit
    {
        public ulong Current;
        public ulong Maximum;
    }

    // Tmds.LibC 0.5.0 has no getrlimit/setrlimit, so these two are bound directly (x86-64/arm64 rlimit layout).
    [LibraryImport("libc", SetLastError = true)]
    private static partial int getrlimit(int resource, out ResourceLimit limit);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int setrlimit(int resource, in ResourceLimit limit);

    public static (ulong Before, ulong After) RaiseToHardLimit()
    {
        if (getrlimit(RlimitNofile, out ResourceLimit limit) != 0)
        {
            return (0, 0);
        }

        ulong before = limit.Current;
        if (limit.Current < limit.Maximum)
        {
            limit.Current = limit.Maximum;
            if (setrlimit(RlimitNofile, limit) != 0)
            {
                return (before, before);
            }
        }

        return (before, limit.Current);
    }
}
