using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace VipProxy.Host.Doctor;

/// <summary>Writes a <see cref="DoctorResult"/> for people (one finding a line, its fix under it) or for scripts (JSON).</summary>
public static class DoctorReport
{
    private const int CheckWidth = 13;

    public static string Text(DoctorResult result, string file)
    {
        ArgumentNullException.ThrowIfNull(result);
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"vipproxy doctor: this host against {file}\n");
        foreach (DoctorFinding finding in result.Findings)
        {
            text.Append(CultureInfo.InvariantCulture, $"{Severity(finding.Severity),-8} {finding.Check.PadRight(CheckWidth)} {finding.What}\n");
            if (finding.Fix is { } fix)
            {
                text.Append(' ', 9 + CheckWidth + 1).Append("fix: ").Append(fix).Append('\n');
            }
        }

        if (result.Routers.Count > 0)
        {
            text.Append("VRRP routers heard:\n");
            foreach (ObservedRouter router in result.Routers)
            {
                text.Append(CultureInfo.InvariantCulture,
                    $"  {router.Interface}  {router.Source} -> {router.Destination}  VRID {router.VirtualRouterId}  priority {router.Priority}  VRRPv{router.Version}  advert_int {router.AdvertInterval.TotalSeconds.ToString("0.##", CultureInfo.InvariantCulture)} s  auth {router.Authentication}  VIPs {string.Join(",", router.Addresses)}  ({router.Adverts} advert{(router.Adverts == 1 ? "" : "s")})\n");
            }
        }

        int errors = result.Findings.Count(f => f.Severity == DoctorSeverity.Error);
        int warnings = result.Findings.Count(f => f.Severity == DoctorSeverity.Warning);
        text.Append(CultureInfo.InvariantCulture,
            $"{errors} error(s), {warnings} warning(s): {(result.Blocks ? "this host is not ready for the file" : "nothing blocks")}\n");
        return text.ToString();
    }

    /// <summary>
    /// <c>{"file", "ready", "errors", "warnings", "findings": [{"severity", "check", "what", "fix"}], "routers": [...]}</c>;
    /// severities are "ok", "info", "warning", "error". Quotes in rule texts stay readable (relaxed escaping: the
    /// output goes to terminals and scripts, never into HTML).
    /// </summary>
    public static string Json(DoctorResult result, string file)
    {
        ArgumentNullException.ThrowIfNull(result);
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();
            json.WriteString("file", file);
            json.WriteBoolean("ready", !result.Blocks);
            json.WriteNumber("errors", result.Findings.Count(f => f.Severity == DoctorSeverity.Error));
            json.WriteNumber("warnings", result.Findings.Count(f => f.Severity == DoctorSeverity.Warning));
            json.WriteStartArray("findings");
            foreach (DoctorFinding finding in result.Findings)
            {
                json.WriteStartObject();
                json.WriteString("severity", Severity(finding.Severity));
                json.WriteString("check", finding.Check);
                json.WriteString("what", finding.What);
                if (finding.Fix is { } fix)
                {
                    json.WriteString("fix", fix);
                }
                else
                {
                    json.WriteNull("fix");
                }

                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteStartArray("routers");
            foreach (ObservedRouter router in result.Routers)
            {
                json.WriteStartObject();
                json.WriteString("interface", router.Interface);
                json.WriteString("source", router.Source.ToString());
                json.WriteString("destination", router.Destination.ToString());
                json.WriteNumber("vrid", router.VirtualRouterId);
                json.WriteNumber("priority", router.Priority);
                json.WriteNumber("version", router.Version);
                json.WriteNumber("advertIntervalSeconds", router.AdvertInterval.TotalSeconds);
                json.WriteString("authentication", router.Authentication);
                json.WriteStartArray("addresses");
                foreach (System.Net.IPAddress address in router.Addresses)
                {
                    json.WriteStringValue(address.ToString());
                }

                json.WriteEndArray();
                json.WriteNumber("adverts", router.Adverts);
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(stream.ToArray()) + "\n";
    }

    private static string Severity(DoctorSeverity severity) => severity switch
    {
        DoctorSeverity.Ok => "ok",
        DoctorSeverity.Info => "info",
        DoctorSeverity.Warning => "warning",
        _ => "error",
    };
}
