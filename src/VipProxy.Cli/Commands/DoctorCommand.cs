using System.CommandLine;
using VipProxy.Config;
using VipProxy.Config.Diagnostics;
using VipProxy.Host;
using VipProxy.Host.Doctor;

namespace VipProxy.Cli.Commands;

/// <summary>
/// <c>vipproxy doctor -f FILE [--json] [--listen SECONDS]</c>: checks this host against a valid file (capabilities,
/// interfaces, the VIPs' subnets, sysctls, firewall rules, and the VRRP routers already on the LAN) and prints every
/// finding with its fix. Exit 0 when nothing blocks, 1 otherwise (an invalid file included).
/// </summary>
internal static class DoctorCommand
{
    public const int Ready = 0;
    public const int NotReady = 1;

    public static Command Create()
    {
        Option<FileInfo> file = CommonOptions.ConfigFile();
        Option<string> nodeId = CommonOptions.NodeId();
        var json = new Option<bool>("--json")
        {
            Description = "Print the findings and the routers heard as JSON, for scripts.",
        };
        var listen = new Option<double>("--listen")
        {
            Description = "Seconds to listen on each VRRP interface for routers already speaking there (0: do not listen). Default 3.",
            HelpName = "SECONDS",
            DefaultValueFactory = _ => 3,
        };
        var command = new Command("doctor", "Check this host against a configuration file and print each finding with its fix: exit 0 when nothing blocks, 1 otherwise.")
        {
            file, nodeId, json, listen,
        };
        command.SetAction((result, cancellationToken) => RunAsync(result.GetValue(file)!, result.GetValue(nodeId), result.GetValue(json),
            TimeSpan.FromSeconds(Math.Clamp(result.GetValue(listen), 0, 600)), Console.Out, Console.Error, cancellationToken));
        return command;
    }

    public static async Task<int> RunAsync(FileInfo file, string? nodeId, bool json, TimeSpan listen, TextWriter output, TextWriter errors, CancellationToken cancellationToken)
    {
        ConfigLoadResult loaded = ConfigFile.Load(file.ToString(), nodeId);
        foreach (Diagnostic diagnostic in loaded.Diagnostics)
        {
            await errors.WriteLineAsync(diagnostic.ToString()).ConfigureAwait(false);
        }

        if (loaded.Config is null)
        {
            await errors.WriteLineAsync($"{file}: configuration refused; fix it first (vipproxy check -f {file})").ConfigureAwait(false);
            return NotReady;
        }

        HostSnapshot host = await HostProbe.GatherAsync(loaded.Config, listen, cancellationToken).ConfigureAwait(false);
        DoctorResult result = DoctorAnalysis.Analyze(loaded.Config, host);
        await output.WriteAsync(json ? DoctorReport.Json(result, file.ToString()) : DoctorReport.Text(result, file.ToString())).ConfigureAwait(false);
        return result.Blocks ? NotReady : Ready;
    }
}
