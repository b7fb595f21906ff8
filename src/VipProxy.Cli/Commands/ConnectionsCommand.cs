using System.CommandLine;
using System.Globalization;
using System.Text;
using VipProxy.Host.Control;

namespace VipProxy.Cli.Commands;

/// <summary>
/// <c>vipproxy connections [--vs VS] [--rs RS] [--json]</c>: the live proxied connections (like <c>ipvsadm -Lnc</c>
/// or HAProxy's <c>show sess</c>); <c>vipproxy connections kill ID…</c> closes them (close reason OperatorClosed).
/// </summary>
internal static class ConnectionsCommand
{
    public static Command Create()
    {
        var vs = new Option<string>("--vs") { Description = "Only connections of this virtual server (ADDR:PORT)." };
        var rs = new Option<string>("--rs") { Description = "Only connections to this real server (ADDR:PORT)." };
        Option<string> socket = CommonOptions.Socket();
        Option<bool> json = CommonOptions.Json();
        var command = new Command("connections", "List the running vipproxy's live proxied connections.") { vs, rs, socket, json };
        command.SetAction((result, _) => ControlCall.RunAsync(
            result.GetValue(socket)!,
            new ControlRequest("connections") { VirtualServer = result.GetValue(vs), RealServer = result.GetValue(rs) },
            result.GetValue(json), "connections", Console.Out, Console.Error, Render));
        command.Add(Kill());
        return command;
    }

    private static Command Kill()
    {
        var ids = new Argument<long[]>("ID") { Description = "Connection ids, as 'vipproxy connections' lists them.", Arity = ArgumentArity.OneOrMore };
        Option<string> socket = CommonOptions.Socket();
        Option<bool> json = CommonOptions.Json();
        var command = new Command("kill", "Close live connections by id (both sides reset; counted as close reason OperatorClosed).") { ids, socket, json };
        command.SetAction((result, _) => ControlCall.RunAsync(
            result.GetValue(socket)!,
            new ControlRequest("connections-kill") { Ids = result.GetValue(ids) },
            result.GetValue(json), "connections kill", Console.Out, Console.Error));
        return command;
    }

    /// <summary>One aligned row per connection; IN is client → server, OUT server → client.</summary>
    internal static string Render(ControlReply reply)
    {
        IReadOnlyList<ConnectionReport> connections = reply.Connections ?? [];
        if (connections.Count == 0)
        {
            return "no live connections";
        }

        var rows = new List<string[]> { new[] { "ID", "CLIENT", "VIRTUAL SERVER", "REAL SERVER", "AGE", "IDLE", "IN", "OUT" } };
        foreach (ConnectionReport c in connections)
        {
            rows.Add([
                c.Id.ToString(CultureInfo.InvariantCulture), c.Client ?? "-", c.VirtualServer, c.RealServer ?? "(connecting)",
                Seconds(c.AgeSeconds), Seconds(c.IdleSeconds),
                c.BytesToServer.ToString(CultureInfo.InvariantCulture), c.BytesToClient.ToString(CultureInfo.InvariantCulture),
            ]);
        }

        var widths = Enumerable.Range(0, rows[0].Length).Select(column => rows.Max(row => row[column].Length)).ToArray();
        var text = new StringBuilder();
        foreach (string[] row in rows)
        {
            for (int column = 0; column < row.Length; column++)
            {
                text.Append(column == row.Length - 1 ? row[column] : row[column].PadRight(widths[column] + 2));
            }

            text.Append('\n');
        }

        return text.ToString().TrimEnd('\n');
    }

    private static string Seconds(double seconds) => seconds.ToString("0.0", CultureInfo.InvariantCulture) + "s";
}
