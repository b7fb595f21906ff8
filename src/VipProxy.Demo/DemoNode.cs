using System.Net.Sockets;
using System.Text.Json;
using VipProxy.Host.Control;
using VipProxy.Host.Status;
using VipProxy.Lab;

namespace VipProxy.Demo;

/// <summary>
/// One LB node of the demo: this very binary running <c>vipproxy run -f FILE --socket PATH --node-id NAME</c> inside
/// an LB host, read through its control socket (a path in the file system, so reachable from outside the namespace).
/// </summary>
public sealed class DemoNode
{
    /// <summary>Generous: under <c>dotnet vipproxy.dll</c> two nodes JIT at once, on a machine that may be busy.</summary>
    private static readonly TimeSpan StartLimit = TimeSpan.FromSeconds(60);

    private DemoNode(string name, LanHost host, LanProcess process, string socket)
    {
        Name = name;
        Host = host;
        Process = process;
        Socket = socket;
    }

    public string Name { get; }

    public LanHost Host { get; }

    public LanProcess Process { get; }

    public string Socket { get; }

    /// <summary>Starts the node and waits for its "started from" line (VRRP and listeners are running by then).</summary>
    public static async Task<DemoNode> StartAsync(LanHost host, string configFile, string socket)
    {
        var (program, prefix) = SelfCommand();
        var process = host.Start(program, [.. prefix, "run", "-f", configFile, "--socket", socket, "--node-id", host.Name], null);
        await process.WaitForOutputAsync("started from", StartLimit).ConfigureAwait(false);
        return new DemoNode(host.Name, host, process, socket);
    }

    /// <summary>The node's status, or null while it cannot answer (starting, stopped).</summary>
    public async Task<StatusReport?> TryStatusAsync()
    {
        try
        {
            var json = await ControlClient.RequestAsync(Socket, "status", TimeSpan.FromSeconds(2)).ConfigureAwait(false);
            return JsonSerializer.Deserialize(json, StatusJsonContext.Default.StatusReport);
        }
        catch (Exception e) when (e is SocketException or IOException or OperationCanceledException or JsonException)
        {
            return null;
        }
    }

    /// <summary>"MASTER", "BACKUP", "FAULT"… of the node's one vrrp_instance, with whether it holds the VIP.</summary>
    public async Task<(string State, bool HoldsVip)> VrrpStateAsync()
    {
        var instance = (await TryStatusAsync().ConfigureAwait(false))?.VrrpInstances.FirstOrDefault();
        return instance is null ? ("UNREACHABLE", false) : (instance.State, instance.VipsHeld.Count > 0);
    }

    /// <summary>
    /// How to start this binary again: the Native AOT executable (or apphost) is the process itself, but under
    /// <c>dotnet vipproxy.dll</c> the process is the dotnet host, which needs the assembly as its first argument.
    /// </summary>
    public static (string Program, string[] Prefix) SelfCommand()
    {
        var process = Environment.ProcessPath ?? throw new InvalidOperationException("the path of this executable is unknown");
        if (!string.Equals(Path.GetFileNameWithoutExtension(process), "dotnet", StringComparison.Ordinal))
        {
            return (process, []);
        }

        var assembly = Path.Combine(AppContext.BaseDirectory, "vipproxy.dll");
        return File.Exists(assembly)
            ? (process, [assembly])
            : throw new InvalidOperationException($"running under {process} but {assembly} does not exist");
    }
}
