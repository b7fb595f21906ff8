using VipProxy.Lab;

namespace VipProxy.Bench.Contenders;

/// <summary>
/// HAProxy 2.6 from Debian in `mode tcp`, with or without `option splice-auto`: the incumbent VipProxy has to
/// beat. Runs in the foreground (-db) with its own pid file, so the harness owns the process and reads its /proc.
/// </summary>
internal sealed class HaproxyContender(bool splice)
    : ProxyContender(splice ? "haproxy-splice" : "haproxy", splice ? "HAProxy (splice-auto)" : "HAProxy")
{
    public bool Splice { get; } = splice;

    /// <summary>keepalived + HAProxy is the pair VipProxy replaces; the splice variant adds nothing to failover.</summary>
    public override FailoverPair? CreateFailoverPair() => Splice ? null : new KeepalivedHaproxyPair();

    protected override LanProcess Launch(ContenderContext context, LanHost host, string directory)
    {
        var config = HaproxyConfig.Render(host.Address, context.Topology.RealServer.Address, context.Services,
            context.MaxProxiedConnections, Splice, transparent: false);
        var configPath = Path.Combine(directory, "haproxy.cfg");
        File.WriteAllText(configPath, config);
        return host.Start("haproxy", "-db", "-f", configPath, "-p", Path.Combine(directory, "haproxy.pid"));
    }
}
