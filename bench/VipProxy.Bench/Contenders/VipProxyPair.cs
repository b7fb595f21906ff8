using VipProxy.Bench.Infrastructure;
using VipProxy.Lab;

namespace VipProxy.Bench.Contenders;

/// <summary>Two vipproxy daemons, each running the VRRP instance and the virtual server on the VIP.</summary>
internal sealed class VipProxyPair(string binaryPath) : FailoverPair("vipproxy")
{
    protected override IEnumerable<LanProcess> Launch(ContenderContext context, LanHost host, VrrpSettings vrrp,
        string directory)
    {
        VipProxyContender.EnsureBinary(binaryPath);
        var topology = context.Topology;
        var configPath = Path.Combine(directory, "vipproxy.conf");
        File.WriteAllText(configPath,
            VipProxyConfig.Render(topology.Vip, topology.RealServer.Address, [Service.Http], vrrp));
        return [host.Start(binaryPath, VipProxyContender.Arguments(configPath, directory, host.Name), VipProxyConfig.Environment)];
    }
}
