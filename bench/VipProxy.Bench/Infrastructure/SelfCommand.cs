using System.Reflection;

namespace VipProxy.Bench.Infrastructure;

/// <summary>
/// The command line that runs this very program again, for the small helpers (idle connection holder, failover
/// probe) that must run inside the client's network namespace: `ip netns exec` starts a new process, so the
/// helper is a subcommand of the harness rather than a thread of it.
/// </summary>
internal static class SelfCommand
{
    public static (string Program, string[] Arguments) For(params string[] arguments)
    {
        var processPath = Environment.ProcessPath ?? throw new InvalidOperationException("no process path");
        var assembly = Assembly.GetEntryAssembly()?.Location;

        // Started as `dotnet VipProxy.Bench.dll` the host is dotnet and the program is the dll; started through
        // the apphost, the process path is the program itself.
        return Path.GetFileNameWithoutExtension(processPath) == "dotnet" && !string.IsNullOrEmpty(assembly)
            ? (processPath, [assembly, .. arguments])
            : (processPath, arguments);
    }
}
