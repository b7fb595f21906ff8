using System.Globalization;
using VipProxy.Bench.Infrastructure;
using VipProxy.Lab;

namespace VipProxy.Bench.Contenders;

/// <summary>
/// What VipProxy replaces: keepalived 2.2.7 (VRRP only, `--vrrp`) moving the VIP, and HAProxy on each host bound
/// to the VIP with `transparent` so the backup listens before it holds the address.
/// </summary>
internal sealed class KeepalivedHaproxyPair() : FailoverPair("keepalived+haproxy")
{
    protected override IEnumerable<LanProcess> Launch(ContenderContext context, LanHost host, VrrpSettings vrrp,
        string directory)
    {
        var topology = context.Topology;
        var keepalivedConfig = Path.Combine(directory, "keepalived.conf");
        File.WriteAllText(keepalivedConfig, string.Create(CultureInfo.InvariantCulture, $$"""
            global_defs {
                router_id {{host.Name}}
            }
            {{vrrp.Render()}}
            """));
        var haproxyConfig = Path.Combine(directory, "haproxy.cfg");
        File.WriteAllText(haproxyConfig, HaproxyConfig.Render(topology.Vip, topology.RealServer.Address,
            [Service.Http], context.MaxProxiedConnections, splice: false, transparent: true));

        var haproxy = host.Start("haproxy", "-db", "-f", haproxyConfig, "-p", Path.Combine(directory, "haproxy.pid"));

        // Own pid files: two keepalived instances run on this machine at once, and the default /run/keepalived.pid
        // would make the second believe it is already running.
        var keepalived = host.Start("keepalived", "--dont-fork", "--log-console", "--log-detail", "--vrrp",
            "--use-file", keepalivedConfig,
            "--pid", Path.Combine(directory, "keepalived.pid"),
            "--vrrp_pid", Path.Combine(directory, "vrrp.pid"),
            "--checkers_pid", Path.Combine(directory, "checkers.pid"));
        return [haproxy, keepalived];
    }
}
