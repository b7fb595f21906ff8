using System.Runtime.InteropServices;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using VipProxy.Config;
using VipProxy.Config.Diagnostics;
using VipProxy.Config.Model;
using VipProxy.Host.Platform;

namespace VipProxy.Host;

/// <summary>
/// <c>vipproxy run</c>: validates the file and the host, then runs the node under the .NET generic host
/// (systemd notify readiness and journald log levels under systemd, plain console otherwise).
/// </summary>
public static class Daemon
{
    public const int ExitOk = 0;
    public const int ExitInvalidConfig = 1;
    public const int ExitMissingPrerequisite = 2;

    public static async Task<int> RunAsync(DaemonOptions options, TextWriter errors)
    {
        ConfigLoadResult loaded = ConfigFile.Load(options.ConfigFile, options.NodeId);
        foreach (Diagnostic diagnostic in loaded.Diagnostics)
        {
            await errors.WriteLineAsync(diagnostic.ToString()).ConfigureAwait(false);
        }

        if (loaded.Config is not { } config)
        {
            await errors.WriteLineAsync($"{options.ConfigFile}: configuration refused; vipproxy is not started").ConfigureAwait(false);
            return ExitInvalidConfig;
        }

        IReadOnlyList<string> problems = CheckPrerequisites(config);
        if (problems.Count > 0)
        {
            foreach (string problem in problems)
            {
                await errors.WriteLineAsync($"vipproxy: cannot start: {problem}").ConfigureAwait(false);
            }

            return ExitMissingPrerequisite;
        }

        HostApplicationBuilder builder = Microsoft.Extensions.Hosting.Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings
        {
            ApplicationName = "vipproxy",
        });
        builder.Logging.AddSimpleConsole(console =>
        {
            console.SingleLine = true;
            console.TimestampFormat = "HH:mm:ss.fff ";
        });
        // After the console logger: under systemd this switches it to journald's "<6>" level prefixes
        // and the lifetime to Type=notify (READY=1 once started, STOPPING=1 on stop). Elsewhere a no-op.
        builder.Services.AddSystemd();
        builder.Logging.SetMinimumLevel(LogLevel.Information);
        builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = options.DrainTimeout + TimeSpan.FromSeconds(10));
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton(config);
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddHostedService<NodeService>();

        using IHost host = builder.Build();
        (ulong before, ulong after) = FileDescriptorLimit.RaiseToHardLimit();
        ILogger startup = host.Services.GetRequiredService<ILoggerFactory>().CreateLogger("vipproxy");
        startup.LogInformation("file descriptor limit {Before} -> {After}", before, after);
        List<string> transparent = TransparentVirtualServers(config);
        if (transparent.Count > 0)
        {
            // The kernel accepted the transparent bind (checked above); the return path cannot be checked from here.
            startup.LogInformation(
                "virtual_server {VirtualServers} transparent: real servers must route replies through this host, and this host must deliver them locally (fwmark rule, local route table, socket mark; README \"Client addresses\")",
                string.Join(", ", transparent));
        }

        await host.RunAsync().ConfigureAwait(false);
        return ExitOk;
    }

    /// <summary>The <c>transparent</c> virtual servers, as "IP PORT".</summary>
    public static List<string> TransparentVirtualServers(KeepalivedConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        return [.. config.VirtualServers.Where(v => v.Transparent).Select(v => $"{v.Endpoint.Address} {v.Endpoint.Port}")];
    }

    /// <summary>Capabilities and interfaces the file needs, each missing one as a sentence.</summary>
    public static IReadOnlyList<string> CheckPrerequisites(KeepalivedConfig config)
    {
        var problems = new List<string>();
        bool needsVrrp = config.VrrpInstances.Count > 0;
        bool needsLowPorts = config.VirtualServers.Any(v => v.Endpoint.Port < 1024);
        List<string> transparent = TransparentVirtualServers(config);
        ulong effective = Capabilities.ReadEffective();
        IReadOnlyList<string> missing = Capabilities.Missing(effective, needsVrrp, needsLowPorts, transparent.Count > 0);
        foreach (string capability in missing)
        {
            problems.Add($"missing capability {capability}; run as root or grant it (systemd: AmbientCapabilities=)");
        }

        if (transparent.Count > 0 && Capabilities.Has(effective, Capabilities.NetAdmin) && TransparentSockets.Probe() is { } refused)
        {
            problems.Add($"virtual_server {string.Join(", ", transparent)} is transparent but {refused}");
        }

        foreach (VrrpInstance instance in config.VrrpInstances)
        {
            if (!HostInterfaces.Exists(instance.Interface))
            {
                problems.Add($"vrrp_instance {instance.Name}: interface {instance.Interface} does not exist on this host");
            }

            foreach (TrackedInterface tracked in instance.TrackInterfaces.Where(t => !HostInterfaces.Exists(t.Name)))
            {
                problems.Add($"vrrp_instance {instance.Name}: tracked interface {tracked.Name} does not exist on this host");
            }
        }

        if (!RuntimeInformation.IsOSPlatform(OSPlatform.Linux))
        {
            problems.Add("VipProxy runs on Linux only");
        }

        return problems;
    }
}
