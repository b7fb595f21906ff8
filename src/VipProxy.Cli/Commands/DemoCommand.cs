using System.CommandLine;
using VipProxy.Demo;

namespace VipProxy.Cli.Commands;

/// <summary>
/// <c>vipproxy demo [--verbose]</c>: the MyCat hot-standby pair in network namespaces, failed over, failed back and
/// with a real server taken out, printed as a timeline; then everything is torn down. No file, no options needed.
/// </summary>
internal static class DemoCommand
{
    public static Command Create()
    {
        var verbose = new Option<bool>("--verbose", "-v")
        {
            Description = "Also print every command the demo runs and what the nodes and MariaDB log (to stderr).",
        };
        var command = new Command("demo",
            "Build a client, two VipProxy nodes (lb1 MASTER, lb2 BACKUP) and two MariaDB real servers in network namespaces on 198.18.0.0/15, " +
            "cut lb1's link, restore it, stop one MariaDB, print the measured timeline and tear it all down. Needs root.")
        {
            verbose,
        };

        // The demo handles SIGINT/SIGTERM itself (it must tear the LAN down first), so the token is not used.
        command.SetAction((result, _) => DemoRunner.RunAsync(Console.Out, Console.Error, result.GetValue(verbose)));
        return command;
    }
}
