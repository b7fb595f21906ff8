using System.Globalization;

namespace VipProxy.Bench.Infrastructure;

/// <summary>
/// Reads a proxy's resource use from /proc. Pids are global (the namespaces separate only the network), so the
/// harness reads them from the root namespace.
/// </summary>
internal static class ProcFs
{
    /// <summary>Clock ticks per second for /proc/PID/stat's utime and stime: USER_HZ, 100 on every Linux ABI.</summary>
    private const double TicksPerSecond = 100;

    /// <summary>Resident set size in KiB (VmRSS from /proc/PID/status).</summary>
    public static long ResidentKiB(int pid)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                var number = line["VmRSS:".Length..].Trim().Split(' ')[0];
                return long.Parse(number, CultureInfo.InvariantCulture);
            }
        }

        throw new InvalidOperationException($"/proc/{pid}/status has no VmRSS line");
    }

    /// <summary>User plus system CPU time in seconds, for the process and every thread of it.</summary>
    public static double CpuSeconds(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");

        // The command name (field 2) is in parentheses and may contain spaces: count fields after the last ')'.
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');

        // After the name, field 3 (state) is index 0, so utime (field 14) is index 11 and stime (15) index 12.
        var utime = long.Parse(fields[11], CultureInfo.InvariantCulture);
        var stime = long.Parse(fields[12], CultureInfo.InvariantCulture);
        return (utime + stime) / TicksPerSecond;
    }

    /// <summary>The soft limit on open files this process (and so every child) runs with.</summary>
    public static long OpenFilesLimit()
    {
        foreach (var line in File.ReadLines("/proc/self/limits"))
        {
            if (line.StartsWith("Max open files", StringComparison.Ordinal))
            {
                var parts = line["Max open files".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
                return parts[0] == "unlimited" ? 1 << 20 : long.Parse(parts[0], CultureInfo.InvariantCulture);
            }
        }

        return 1024;
    }

    public static bool IsAlive(int pid) => Directory.Exists($"/proc/{pid}");
}
