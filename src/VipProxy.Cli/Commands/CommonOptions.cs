using System.CommandLine;

namespace VipProxy.Cli.Commands;

/// <summary>Options shared by several subcommands, spelled the same everywhere.</summary>
internal static class CommonOptions
{
    public static Option<FileInfo> ConfigFile() => new("--file", "-f")
    {
        Description = "The keepalived.conf-syntax configuration file.",
        Required = true,
    };

    public static Option<string> NodeId() => new("--node-id", "-i")
    {
        Description = "Selects '@ID' lines of the file, like keepalived's -i (default: the short host name).",
        DefaultValueFactory = _ => DefaultNodeId(),
    };

    public static Option<string> Socket() => new("--socket")
    {
        Description = "The control socket (Unix domain, mode 0600).",
        DefaultValueFactory = _ => VipProxy.Host.Control.ControlSocketServer.DefaultPath,
    };

    public static Option<bool> Json() => new("--json")
    {
        Description = "Print the daemon's JSON reply instead of text.",
    };

    /// <summary>keepalived's default config id: the host name up to its first dot.</summary>
    public static string DefaultNodeId()
    {
        string name = Environment.MachineName;
        int dot = name.IndexOf('.', StringComparison.Ordinal);
        return dot < 0 ? name : name[..dot];
    }
}
