namespace VipProxy.Bench.Contenders;

/// <summary>No proxy: the client talks to the real server itself. The ceiling every proxy is measured against.</summary>
internal sealed class DirectContender() : Contender("direct", "Direct (no proxy)")
{
    public override bool IsProxy => false;

    protected override Task<RunningContender> StartCoreAsync(ContenderContext context, CancellationToken cancellationToken) =>
        Task.FromResult(new RunningContender(context.Topology.RealServer.Address, null));
}
