using VipProxy.Bench.Infrastructure;
using VipProxy.Lab;

namespace VipProxy.Bench.Contenders;

/// <summary>
/// A proxy process on the LB host: writes its config, starts it, and hands it over only once it listens on every
/// port and an HTTP request from the client makes the round trip through it, so a workload never measures a proxy
/// that is still starting (or one that listens but does not forward).
/// </summary>
internal abstract class ProxyContender(string name, string label) : Contender(name, label)
{
    private static readonly TimeSpan ListenTimeout = TimeSpan.FromSeconds(10);

    protected override async Task<RunningContender> StartCoreAsync(ContenderContext context,
        CancellationToken cancellationToken)
    {
        var topology = context.Topology;
        var process = Launch(context, topology.Lb, context.NewInstanceDirectory(Name));
        var running = new RunningContender(topology.Lb.Address, process) { Contender = this };
        try
        {
            await WaitUntilForwardingAsync(context, topology.Lb.Address, process, cancellationToken);
            return running;
        }
        catch
        {
            await running.DisposeAsync();
            throw;
        }
    }

    /// <summary>Writes the config into <paramref name="directory"/> and starts the proxy on <paramref name="host"/>.</summary>
    protected abstract LanProcess Launch(ContenderContext context, LanHost host, string directory);

    private async Task WaitUntilForwardingAsync(ContenderContext context, System.Net.IPAddress address,
        LanProcess process, CancellationToken cancellationToken)
    {
        foreach (var service in context.Services)
        {
            await NetCheck.WaitUntilListeningAsync(context.Topology.Lb, ServicePorts.Of(service), ListenTimeout, process,
                cancellationToken);
        }

        if (context.Services.Contains(Service.Http) &&
            !await NetCheck.HttpGetSucceedsAsync(context.Topology.Client, address, ServicePorts.Http, ServicePorts.HttpPath))
        {
            throw new BenchFailureException($"{Name} accepts on {address}:{ServicePorts.Http} but an HTTP request through it got no response",
                process.OutputLines);
        }
    }
}
