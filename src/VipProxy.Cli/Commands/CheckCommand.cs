using System.CommandLine;
using VipProxy.Config;
using VipProxy.Config.Diagnostics;
using VipProxy.Host;

namespace VipProxy.Cli.Commands;

/// <summary>
/// <c>vipproxy check -f FILE [--node-id ID] [--dump]</c>: like <c>keepalived -t</c>, but every problem is an
/// error with its file, line and column, and any error means exit 1.
/// </summary>
internal static class CheckCommand
{
    public const int Valid = 0;
    public const int Invalid = 1;

    public static Command Create()
    {
        Option<FileInfo> file = CommonOptions.ConfigFile();
        Option<string> nodeId = CommonOptions.NodeId();
        var dump = new Option<bool>("--dump")
        {
            Description = "Print the effective configuration, every default filled in.",
        };
        var explain = new Option<bool>("--explain")
        {
            Description = "After validating, list where VipProxy will behave differently from keepalived for this file.",
        };
        var command = new Command("check", "Validate a configuration file: exit 0 when valid, 1 with errors (printed as FILE:LINE:COL).")
        {
            file, nodeId, dump, explain,
        };
        command.SetAction(result => Run(result.GetValue(file)!, result.GetValue(nodeId), result.GetValue(dump), Console.Out, Console.Error, result.GetValue(explain)));
        return command;
    }

    public static int Run(FileInfo file, string? nodeId, bool dump, TextWriter output, TextWriter errors, bool explain = false)
    {
        ConfigLoadResult result = ConfigFile.Load(file.ToString(), nodeId);
        foreach (Diagnostic diagnostic in result.Diagnostics)
        {
            errors.WriteLine(diagnostic);
        }

        if (result.Config is null)
        {
            int count = result.Errors.Count();
            errors.WriteLine($"{file}: {count} error{(count == 1 ? "" : "s")}; configuration refused");
            return Invalid;
        }

        if (dump)
        {
            output.Write(ConfigDumper.Dump(result.Config));
        }
        else
        {
            output.WriteLine($"{file}: configuration is valid ({result.Config.VrrpInstances.Count} vrrp_instance, {result.Config.VirtualServers.Count} virtual_server)");
        }

        WriteTransparentNotes(result.Config, errors);
        if (explain)
        {
            IReadOnlyList<string> differences = KeepalivedDifferences.Explain(result.Config, result.Diagnostics);
            output.WriteLine($"Where VipProxy differs from keepalived for this file ({differences.Count}):");
            foreach (string difference in differences)
            {
                output.WriteLine($"  - {difference}");
            }
        }

        return Valid;
    }

    /// <summary>
    /// <c>transparent</c> needs this host's kernel and routing as well as a valid file. The file may be checked on
    /// another machine, so these are warnings and the exit code stays "valid"; <c>vipproxy run</c> refuses to start
    /// on the same findings.
    /// </summary>
    private static void WriteTransparentNotes(VipProxy.Config.Model.KeepalivedConfig config, TextWriter errors)
    {
        List<string> transparent = Daemon.TransparentVirtualServers(config);
        if (transparent.Count == 0)
        {
            return;
        }

        string servers = string.Join(", ", transparent);
        ulong effective = VipProxy.Host.Platform.Capabilities.ReadEffective();
        foreach (string capability in VipProxy.Host.Platform.Capabilities.Missing(effective, false, false, needsTransparent: true))
        {
            errors.WriteLine($"warning: virtual_server {servers}: this process lacks {capability}; vipproxy run would refuse to start");
        }

        if (VipProxy.Host.Platform.Capabilities.Has(effective, VipProxy.Host.Platform.Capabilities.NetAdmin)
            && VipProxy.Host.Platform.TransparentSockets.Probe() is { } refused)
        {
            errors.WriteLine($"warning: virtual_server {servers}: {refused}; vipproxy run would refuse to start");
        }

        errors.WriteLine($"note: virtual_server {servers} is transparent: real servers must route replies to clients through this host, "
            + "and this host must deliver them to its own sockets (ip rule fwmark + local route table + a socket-match mark; see the README, \"Client addresses\")");
    }
}
