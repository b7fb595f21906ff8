using System.CommandLine;
using VipProxy.Host;

namespace VipProxy.Cli.Commands;

/// <summary><c>vipproxy run -f FILE [--node-id ID] [--socket PATH] [--drain-timeout SECS] [--handover immediate|after-drain]</c>: the daemon.</summary>
internal static class RunCommand
{
    public static Command Create()
    {
        Option<FileInfo> file = CommonOptions.ConfigFile();
        Option<string> nodeId = CommonOptions.NodeId();
        Option<string> socket = CommonOptions.Socket();
        var drain = new Option<double>("--drain-timeout")
        {
            Description = "On SIGTERM/SIGINT, seconds that established connections may take to finish.",
            DefaultValueFactory = _ => DaemonOptions.DefaultDrainTimeout.TotalSeconds,
        };
        var handover = new Option<string>("--handover")
        {
            Description = "On SIGTERM/SIGINT, when a master gives up its VIPs: 'immediate' (priority 0 at once; connections through this node are lost when the VIP moves) or 'after-drain' (keep serving until the connections open at SIGTERM have ended or the drain timeout passed, then hand over).",
            DefaultValueFactory = _ => "immediate",
        };
        handover.AcceptOnlyFromAmong("immediate", "after-drain");
        var command = new Command("run", "Run this host's VRRP instances and virtual servers (SIGHUP reloads, SIGTERM hands over and drains).")
        {
            file, nodeId, socket, drain, handover,
        };
        command.SetAction((result, _) =>
        {
            var options = new DaemonOptions(
                result.GetValue(file)!.ToString(),
                result.GetValue(nodeId),
                result.GetValue(socket)!,
                TimeSpan.FromSeconds(result.GetValue(drain)),
                result.GetValue(handover) == "after-drain" ? HandoverMode.AfterDrain : HandoverMode.Immediate);
            return Daemon.RunAsync(options, Console.Error);
        });
        return command;
    }
}
