using System.Globalization;
using System.Runtime.InteropServices;

namespace VipProxy.Bench.Infrastructure;

/// <summary>The machine and tool versions a result file records, so figures are read against what produced them.</summary>
internal static class MachineInfo
{
    public static async Task<IReadOnlyDictionary<string, string>> CollectAsync(string vipProxyPath)
    {
        var info = new Dictionary<string, string>
        {
            ["cpu"] = CpuModel(),
            ["cpus"] = Environment.ProcessorCount.ToString(CultureInfo.InvariantCulture),
            ["kernel"] = File.Exists("/proc/sys/kernel/osrelease") ? File.ReadAllText("/proc/sys/kernel/osrelease").Trim() : RuntimeInformation.OSDescription,
            ["memory"] = MemoryTotal(),
            ["os"] = OsName(),
            ["load_average_at_start"] = LoadAverage(),
            ["open_files_limit"] = ProcFs.OpenFilesLimit().ToString(CultureInfo.InvariantCulture),
            ["dotnet"] = RuntimeInformation.FrameworkDescription,
            ["haproxy"] = await LocalCommand.FirstLineAsync("haproxy", "-v"),
            ["keepalived"] = await LocalCommand.FirstLineAsync("keepalived", "--version"),
            ["nginx"] = await LocalCommand.FirstLineAsync("nginx", "-v"),
            ["mariadb"] = await LocalCommand.FirstLineAsync("mariadbd", "--version"),
            ["wrk"] = await LocalCommand.FirstLineAsync("wrk", "-v"),
            ["iperf3"] = await LocalCommand.FirstLineAsync("iperf3", "--version"),
            ["sysbench"] = await LocalCommand.FirstLineAsync("sysbench", "--version"),
            ["vipproxy_binary"] = Binary(vipProxyPath),
        };
        return info;
    }

    /// <summary>
    /// The 1/5/15-minute load averages: the benchmark shares two cores between client, proxy and server, so any
    /// other work on the machine (a build, a test run) lowers every figure; a high value here explains a slow run.
    /// </summary>
    public static string LoadAverage() =>
        File.Exists("/proc/loadavg")
            ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3))
            : "unknown";

    private static string CpuModel() =>
        File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))
            ?.Split(':', 2)[1].Trim() ?? "unknown";

    private static string MemoryTotal()
    {
        var line = File.ReadLines("/proc/meminfo").FirstOrDefault(l => l.StartsWith("MemTotal:", StringComparison.Ordinal));
        var kib = line is null ? 0 : long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
        return string.Create(CultureInfo.InvariantCulture, $"{kib / 1024.0 / 1024.0:0.0} GiB");
    }

    private static string OsName()
    {
        const string path = "/etc/os-release";
        var line = File.Exists(path)
            ? File.ReadLines(path).FirstOrDefault(l => l.StartsWith("PRETTY_NAME=", StringComparison.Ordinal))
            : null;
        return line?["PRETTY_NAME=".Length..].Trim('"') ?? RuntimeInformation.OSDescription;
    }

    private static string Binary(string path)
    {
        var file = new FileInfo(path);
        return file.Exists
            ? string.Create(CultureInfo.InvariantCulture,
                $"{path} ({file.Length / 1024.0 / 1024.0:0.0} MiB, built {file.LastWriteTimeUtc:yyyy-MM-dd HH:mm} UTC)")
            : $"{path} (missing)";
    }
}
