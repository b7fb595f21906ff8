using System.Globalization;
using VipProxy.Config.Diagnostics;
using VipProxy.Config.Model;
using VipProxy.Core.ProxyProtocol;

namespace VipProxy.Config;

/// <summary>
/// <c>vipproxy check --explain</c>: where VipProxy will behave differently from keepalived (with LVS) for one
/// particular file, so an operator knows before switching. Pure: reads the loaded model and the loader's
/// warnings (which already name each ignored keyword, a missing <c>protocol</c> and a truncated
/// <c>auth_pass</c> at file:line:col) and adds what follows from the file's settings.
/// </summary>
public static class KeepalivedDifferences
{
    public static IReadOnlyList<string> Explain(KeepalivedConfig config, IEnumerable<Diagnostic> diagnostics)
    {
        ArgumentNullException.ThrowIfNull(config);
        var lines = new List<string>();
        foreach (Diagnostic warning in diagnostics.Where(d => d.Severity == DiagnosticSeverity.Warning))
        {
            lines.Add(warning.ToString());
        }

        foreach (VirtualServer vs in config.VirtualServers)
        {
            string name = $"virtual_server {vs.Endpoint.Address} {vs.Endpoint.Port}";
            bool proxyHeader = vs.RealServers.Any(r => r.SendProxy != ProxyProtocolVersion.None);
            if (!vs.Transparent && !proxyHeader)
            {
                lines.Add($"{name}: keepalived's LVS-NAT keeps the client's address; VipProxy is a proxy, so real servers see " +
                          "this node's address as the client (MySQL grants by host, processlist, audit logs). Use 'transparent' or 'send_proxy[_v2]' to keep it.");
            }

            if (vs.PersistenceTimeout is { } persistence)
            {
                lines.Add(string.Create(CultureInfo.InvariantCulture,
                    $"{name}: persistence_timeout {persistence.TotalSeconds:0} keeps a client on its server as LVS does, but an entry is dropped as soon as its server goes down (LVS keeps it until it expires), and entries are not shared with the other node."));
            }

            lines.Add($"{name}: health checks run on every node, the backup too (keepalived's ha_suspend is not available), so a backup that takes over already knows which servers are up.");
            if (vs.SorryServer is not null)
            {
                lines.Add($"{name}: the sorry_server is proxied like a real server (no lb_kind DR/TUN).");
            }
        }

        foreach (VrrpInstance instance in config.VrrpInstances)
        {
            if (instance.Authentication is not null && instance.Version == 3)
            {
                lines.Add($"vrrp_instance {instance.Name}: VRRPv3 (RFC 5798 §9) has no authentication; the authentication block is not used.");
            }
        }

        return lines;
    }
}
