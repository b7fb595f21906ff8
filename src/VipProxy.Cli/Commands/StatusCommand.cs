using System.CommandLine;
using System.Text.Json;
using VipProxy.Host.Status;

namespace VipProxy.Cli.Commands;

/// <summary>
/// <c>vipproxy status [--json] [--socket PATH]</c>: the running node's VRRP state and forwarding table,
/// like keepalived's state dump plus <c>ipvsadm -Ln --stats</c>.
/// </summary>
internal static class StatusCommand
{
    public static Command Create()
    {
        Option<string> socket = CommonOptions.Socket();
        var json = new Option<bool>("--json") { Description = "Print the stable JSON document instead of tables." };
        var command = new Command("status", "Show the state of the vipproxy running on this host.") { socket, json };
        command.SetAction((result, _) => RunAsync(result.GetValue(socket)!, result.GetValue(json), Console.Out, Console.Error));
        return command;
    }

    public static async Task<int> RunAsync(string socketPath, bool json, TextWriter output, TextWriter errors)
    {
        if (await ControlCall.RequestAsync(socketPath, "status", "status", errors).ConfigureAwait(false) is not { } reply)
        {
            return 1;
        }

        if (json)
        {
            await output.WriteAsync(reply).ConfigureAwait(false);
            return 0;
        }

        StatusReport? report = JsonSerializer.Deserialize(reply, StatusJsonContext.Default.StatusReport);
        if (report is null)
        {
            await errors.WriteLineAsync("vipproxy status: unreadable reply").ConfigureAwait(false);
            return 1;
        }

        await output.WriteAsync(StatusTable.Render(report)).ConfigureAwait(false);
        return 0;
    }
}
