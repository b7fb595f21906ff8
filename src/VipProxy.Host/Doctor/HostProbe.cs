using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using VipProxy.Config.Binding;
using VipProxy.Config.Model;
using VipProxy.Host.Platform;
using VipProxy.Vrrp.Linux;

namespace VipProxy.Host.Doctor;

/// <summary>
/// The doctor's thin adapter: reads this host into a <see cref="HostSnapshot"/> (/proc/self/status, /sys/class/net,
/// /proc/sys/net/ipv4/conf, <c>nft</c>, <c>iptables-save</c>) and listens on each VRRP interface with the daemon's own
/// raw socket. It judges nothing; <see cref="DoctorAnalysis"/> does.
/// </summary>
public static class HostProbe
{
    private const int IffUp = 0x1;
    private const int IffMulticast = 0x1000;
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(10);
    private static readonly string[] SysctlNames = ["rp_filter", "arp_ignore", "arp_announce"];

    public static async Task<HostSnapshot> GatherAsync(KeepalivedConfig config, TimeSpan listen, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(config);
        IReadOnlyList<HostLink> links = ReadLinks();
        Task<IReadOnlyList<VrrpCapture>> captures = listen > TimeSpan.Zero
            ? ListenAsync(config, links, listen, cancellationToken)
            : Task.FromResult<IReadOnlyList<VrrpCapture>>([]);
        Task<ToolOutput> nftJson = RunAsync("nft", ["-j", "list", "ruleset"], cancellationToken);
        Task<ToolOutput> nftText = RunAsync("nft", ["-a", "list", "ruleset"], cancellationToken);
        Task<ToolOutput> iptables = RunAsync("iptables-save", [], cancellationToken);
        return new HostSnapshot
        {
            EffectiveCapabilities = Capabilities.ReadEffective(),
            Links = links,
            Sysctls = ReadSysctls(links),
            Nftables = await nftJson.ConfigureAwait(false),
            NftablesListing = await nftText.ConfigureAwait(false),
            Iptables = await iptables.ConfigureAwait(false),
            Captures = await captures.ConfigureAwait(false),
        };
    }

    private static List<HostLink> ReadLinks()
    {
        IReadOnlyList<HostInterface> addresses = HostInterfaces.Read();
        var links = new List<HostLink>();
        if (!Directory.Exists("/sys/class/net"))
        {
            return links;
        }

        foreach (string directory in Directory.EnumerateDirectories("/sys/class/net").Order(StringComparer.Ordinal))
        {
            string name = Path.GetFileName(directory);
            int flags = ReadHex(Path.Combine(directory, "flags"));
            links.Add(new HostLink(name, (flags & IffUp) != 0, ReadText(Path.Combine(directory, "carrier")) == "1", (flags & IffMulticast) != 0,
                [.. addresses.Where(a => a.Name == name)]));
        }

        return links;
    }

    private static Dictionary<string, int> ReadSysctls(IReadOnlyList<HostLink> links)
    {
        var values = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (string scope in links.Select(l => l.Name).Prepend("all"))
        {
            foreach (string name in SysctlNames)
            {
                if (int.TryParse(ReadText($"/proc/sys/net/ipv4/conf/{scope}/{name}"), NumberStyles.Integer, CultureInfo.InvariantCulture, out int value))
                {
                    values[$"{scope}/{name}"] = value;
                }
            }
        }

        return values;
    }

    /// <summary>Listens on every VRRP interface of the file at once, for <paramref name="duration"/>.</summary>
    private static async Task<IReadOnlyList<VrrpCapture>> ListenAsync(KeepalivedConfig config, IReadOnlyList<HostLink> links, TimeSpan duration, CancellationToken cancellationToken)
    {
        IEnumerable<Task<VrrpCapture>> listening = config.VrrpInstances
            .GroupBy(i => i.Interface, StringComparer.Ordinal)
            .Select(group => ListenAsync(group.Key, group.First(), config.Global.MulticastGroup, links, duration, cancellationToken));
        return await Task.WhenAll(listening).ConfigureAwait(false);
    }

    private static async Task<VrrpCapture> ListenAsync(string name, VrrpInstance instance, IPAddress group, IReadOnlyList<HostLink> links, TimeSpan duration, CancellationToken cancellationToken)
    {
        HostLink? link = links.FirstOrDefault(l => l.Name == name);
        if (link is null || !int.TryParse(ReadText($"/sys/class/net/{name}/ifindex"), CultureInfo.InvariantCulture, out int index))
        {
            return new VrrpCapture(name, TimeSpan.Zero, [], "no such interface");
        }

        IPAddress local = instance.UnicastSourceIp ?? link.Addresses.FirstOrDefault()?.Address ?? IPAddress.Any;
        RawVrrpSocket socket;
        try
        {
            // The daemon's socket: bound to the interface and a member of the group, so the kernel delivers the
            // adverts to it. The doctor never sends on it.
            socket = RawVrrpSocket.Open(new VrrpSocketOptions(name, index, local, group));
        }
        catch (SocketException error)
        {
            return new VrrpCapture(name, TimeSpan.Zero, [], $"{error.SocketErrorCode}: {error.Message}");
        }

        var datagrams = new List<byte[]>();
        var clock = Stopwatch.StartNew();
        using (socket)
        using (var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            stop.CancelAfter(duration);
            byte[] buffer = new byte[2048];
            try
            {
                while (true)
                {
                    int length = await socket.ReceiveAsync(buffer, stop.Token).ConfigureAwait(false);
                    datagrams.Add(buffer[..length]);
                }
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                // The listening time is over.
            }
        }

        return new VrrpCapture(name, clock.Elapsed, datagrams);
    }

    private static async Task<ToolOutput> RunAsync(string program, string[] arguments, CancellationToken cancellationToken)
    {
        string? path = Find(program);
        if (path is null)
        {
            return ToolOutput.NotInstalled;
        }

        var start = new ProcessStartInfo(path) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        Task<string> output = process.StandardOutput.ReadToEndAsync(cancellationToken);
        Task<string> error = process.StandardError.ReadToEndAsync(cancellationToken);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(CommandTimeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            process.Kill();
            return new ToolOutput(true, -1, "", $"{program} did not finish within {CommandTimeout.TotalSeconds} s");
        }

        return new ToolOutput(true, process.ExitCode, await output.ConfigureAwait(false), await error.ConfigureAwait(false));
    }

    private static string? Find(string program)
    {
        IEnumerable<string> directories = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Concat(["/usr/sbin", "/sbin", "/usr/bin", "/bin"]);
        return directories.Select(d => Path.Combine(d, program)).FirstOrDefault(File.Exists);
    }

    private static string ReadText(string path)
    {
        try
        {
            return File.ReadAllText(path).Trim();
        }
        catch (IOException)
        {
            // carrier reads fail with EINVAL while the interface is down.
            return "";
        }
        catch (UnauthorizedAccessException)
        {
            return "";
        }
    }

    private static int ReadHex(string path)
    {
        string text = ReadText(path);
        return text.StartsWith("0x", StringComparison.Ordinal)
            && int.TryParse(text.AsSpan(2), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out int value) ? value : 0;
    }
}
