using VipProxy.Lab;

namespace VipProxy.Bench.Contenders;

/// <summary>
/// HAProxy 2.6 from Debian in `mode tcp`: at its defaults (no `nbthread`: one thread per CPU), or with one thread,
/// with or without `option splice-auto`: the incumbent VipProxy has to beat. Runs in the foreground (-db) with its
/// own pid file, so the harness owns the process and reads its /proc.
/// </summary>
internal sealed class HaproxyContender(bool splice, bool defaults = false)
    : ProxyContender(defaults ? "haproxy-mt" : splice ? "haproxy-splice" : "haproxy",
        defaults ? "HAProxy (defaults)" : splice ? "HAProxy (1 thread, splice-auto)" : "HAProxy (1 thread)")
{
    public bool Splice { get; } = splice;

    public bool Defaults { get; } = defaults;

    /// <summary>keepalived + HAProxy is the pair VipProxy replaces; the other variants add nothing to failover.</summary>
    public override FailoverPair? CreateFailoverPair() => Splice || Defaults ? null : new KeepalivedHaproxyPair();

    protected override LanProcess Launch(ContenderContext context, LanHost host, string directory)
    {
        var config = HaproxyConfig.Render(host.Address, context.Topology.RealServer.Address, context.Services,
            context.MaxProxiedConnections, Splice, transparent: false, oneThread: !Defaults);
        var configPath = Path.Combine(directory, "haproxy.cfg");
        File.WriteAllText(configPath, config);
        return host.Start("haproxy", "-db", "-f", configPath, "-p", Path.Combine(directory, "haproxy.pid"));
    }
}
