using System.CommandLine;
using VipProxy.Host.Control;

namespace VipProxy.Cli.Commands;

/// <summary>
/// <c>vipproxy server drain|disable|enable|weight|shutdown-sessions VS RS</c>: take a real server out and back at run
/// time (HAProxy's <c>set server … state drain|maint|ready</c>, keepalived's <c>ipvsadm -e -w 0</c>). Kept in the
/// daemon's state file, so a reload or a restart keeps it.
/// </summary>
internal static class ServerCommand
{
    public static Command Create()
    {
        var server = new Command("server", "Change a real server of the running vipproxy at run time (kept across reload and restart).");
        server.Add(Simple("drain", "No new connections (its persistence entries are dropped); established connections continue.", "server-drain"));

        var shutdownSessions = new Option<bool>("--shutdown-sessions") { Description = "Also close its established connections." };
        server.Add(Simple("disable", "Maintenance: no new connections; established ones continue unless --shutdown-sessions.", "server-disable", shutdownSessions));
        server.Add(Simple("enable", "Clear drain, disable and runtime weight: back to the health checks' verdict and the configured weight.", "server-enable"));
        server.Add(Weight());
        server.Add(Simple("shutdown-sessions", "Close the server's established connections now (its state is not changed).", "server-shutdown-sessions"));
        return server;
    }

    private static Argument<string> VirtualServer() => new("VS") { Description = "The virtual server, ADDR:PORT." };

    private static Argument<string> RealServer() => new("RS") { Description = "The real server, ADDR:PORT." };

    private static Command Simple(string name, string description, string request, Option<bool>? flag = null)
    {
        Argument<string> vs = VirtualServer();
        Argument<string> rs = RealServer();
        Option<string> socket = CommonOptions.Socket();
        Option<bool> json = CommonOptions.Json();
        var command = new Command(name, description) { vs, rs, socket, json };
        if (flag is not null)
        {
            command.Add(flag);
        }

        command.SetAction((result, _) => ControlCall.RunAsync(
            result.GetValue(socket)!,
            new ControlRequest(request)
            {
                VirtualServer = result.GetValue(vs),
                RealServer = result.GetValue(rs),
                ShutdownSessions = flag is not null && result.GetValue(flag),
            },
            result.GetValue(json), $"server {name}", Console.Out, Console.Error));
        return command;
    }

    private static Command Weight()
    {
        Argument<string> vs = VirtualServer();
        Argument<string> rs = RealServer();
        var weight = new Argument<long>("N") { Description = "The runtime weight, 0..65535 as the weight keyword (0: no new connections, like drain)." };
        Option<string> socket = CommonOptions.Socket();
        Option<bool> json = CommonOptions.Json();
        var command = new Command("weight", "Set the real server's weight for new connections (until 'server enable').") { vs, rs, weight, socket, json };
        command.SetAction((result, _) => ControlCall.RunAsync(
            result.GetValue(socket)!,
            new ControlRequest("server-weight") { VirtualServer = result.GetValue(vs), RealServer = result.GetValue(rs), Weight = result.GetValue(weight) },
            result.GetValue(json), "server weight", Console.Out, Console.Error));
        return command;
    }
}
