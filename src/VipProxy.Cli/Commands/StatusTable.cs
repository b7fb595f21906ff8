using System.Globalization;
using System.Text;
using VipProxy.Host.Status;
using VipProxy.Vrrp;

namespace VipProxy.Cli.Commands;

/// <summary>Renders a status report as aligned tables for people; scripts should use <c>--json</c>.</summary>
internal static class StatusTable
{
    public static string Render(StatusReport report)
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"vipproxy {report.RouterId} (pid {report.Pid}), {report.ConfigFile}, up since {report.StartedAt:yyyy-MM-dd HH:mm:ss}\n");
        if (report.LastReload is { } reload)
        {
            text.Append(CultureInfo.InvariantCulture, $"last reload {reload.At:yyyy-MM-dd HH:mm:ss}: {(reload.Applied ? "applied" : $"refused ({reload.Errors.Count} errors)")}\n");
        }

        text.Append('\n');
        var vrrp = new List<string[]> { new[] { "INSTANCE", "STATE", "PRIO", "EFF", "VRID", "IF", "MASTER", "VIPS", "TRANS", "DROPS" } };
        foreach (VrrpInstanceStatus i in report.VrrpInstances)
        {
            vrrp.Add([
                i.Name, i.Demoted ? i.State + " (demoted)" : i.State, Num(i.ConfiguredPriority), Num(i.EffectivePriority), Num(i.VirtualRouterId), i.Interface,
                i.MasterAddress ?? "-", i.VipsHeld.Count == 0 ? "-" : string.Join(',', i.VipsHeld), Num(i.Transitions),
                Num(i.DropCounters.Values.Sum()),
            ]);
        }

        if (report.VrrpInstances.Count == 0)
        {
            text.Append("no vrrp_instance\n");
        }
        else
        {
            AppendTable(text, vrrp);
        }

        text.Append('\n');
        var forwarding = new List<string[]> { new[] { "PROT LOCAL -> REMOTE", "WEIGHT", "HEALTH", "OPERATOR", "ACTIVE", "INACT", "CONNS", "IN", "OUT", "FAILED", "LAST CHECK" } };
        foreach (VirtualServerReport v in report.VirtualServers)
        {
            forwarding.Add([
                $"TCP {v.Address}:{v.Port} {v.Scheduler}" + (v.PersistenceEntries > 0 ? $" persist({v.PersistenceEntries})" : ""),
                "", v.WriterConflict == true ? "WRITER CONFLICT" : v.QuorumUp ? "quorum" : "NO QUORUM", "", Num(v.ActiveConnections), "", Num(v.TotalConnections), "", "", Num(v.RefusedConnections) + " refused",
                v.SourceLimitRefused + v.SourceRateRefused == 0 ? ""
                    : string.Create(CultureInfo.InvariantCulture, $"per source: {v.SourceLimitRefused} maxconn, {v.SourceRateRefused} rate"),
            ]);
            foreach (RealServerReport r in v.RealServers)
            {
                forwarding.Add([
                    $"  -> {r.Address}:{r.Port}", Num(r.Weight), Health(r), Operator(r), Num(r.ActiveConnections), Num(r.InactiveConnections),
                    Num(r.TotalConnections), Bytes(r.BytesIn), Bytes(r.BytesOut), Num(r.FailedConnects), r.LastCheck ?? "-",
                ]);
            }
        }

        AppendTable(text, forwarding);
        if (report.OperatorState is { } state)
        {
            text.Append('\n');
            foreach (var demoted in state.DemotedInstances)
            {
                text.Append(CultureInfo.InvariantCulture, $"vrrp_instance {demoted.Instance} demoted since {demoted.SetAt.ToUniversalTime():yyyy-MM-dd HH:mm:ss} UTC\n");
            }

            text.Append(CultureInfo.InvariantCulture, $"operator state: {state.Servers.Count} real server override(s), {state.DemotedInstances.Count} demoted instance(s), in {state.StateFile}\n");
        }

        return text.ToString();
    }

    /// <summary>"-", or the operator's mode and weight with when it was set: "drain since 10:42:07".</summary>
    private static string Operator(RealServerReport server)
    {
        string what = (server.Operator, server.OperatorWeight) switch
        {
            (null, null) => "",
            (null, int weight) => $"weight {Num(weight)}",
            (string mode, null) => mode,
            (string mode, int weight) => $"{mode}, weight {Num(weight)}",
        };
        return what.Length == 0 ? "-" : server.OperatorSetAt is { } at ? $"{what} since {at.ToUniversalTime():HH:mm:ss}" : what;
    }

    /// <summary>up, up/suspect, up/backup (serving), up/standby (a backup waiting), or DOWN.</summary>
    private static string Health(RealServerReport r) => !r.Up ? "DOWN"
        : r.Suspect ? "up/suspect"
        : r.StandingBy ? "up/standby"
        : r.Backup ? "up/backup"
        : "up";

    private static void AppendTable(StringBuilder text, List<string[]> rows)
    {
        int columns = rows[0].Length;
        var widths = Enumerable.Range(0, columns).Select(c => rows.Max(r => r[c].Length)).ToArray();
        foreach (string[] row in rows)
        {
            for (int c = 0; c < columns; c++)
            {
                text.Append(c == columns - 1 ? row[c] : row[c].PadRight(widths[c] + 2));
            }

            text.Append('\n');
        }
    }

    private static string Num(long value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Bytes(long value) => value switch
    {
        >= 1L << 30 => (value / (double)(1L << 30)).ToString("0.0G", CultureInfo.InvariantCulture),
        >= 1L << 20 => (value / (double)(1L << 20)).ToString("0.0M", CultureInfo.InvariantCulture),
        >= 1L << 10 => (value / (double)(1L << 10)).ToString("0.0K", CultureInfo.InvariantCulture),
        _ => Num(value),
    };
}
