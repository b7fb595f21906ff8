using System.Net;
using VipProxy.Lab;

namespace VipProxy.Bench.Contenders;

/// <summary>A started contender: the address clients connect to and, for a proxy, its process.</summary>
internal sealed class RunningContender : IAsyncDisposable
{
    private static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(3);

    public RunningContender(IPAddress address, LanProcess? process)
    {
        Address = address;
        Process = process;
    }

    public IPAddress Address { get; }

    /// <summary>Which contender this is (workloads that size their load per contender read it).</summary>
    public Contender? Contender { get; init; }

    public LanProcess? Process { get; }

    /// <summary>The proxy's own pid (ip netns exec execs the program), for /proc measurements.</summary>
    public int? Pid => Process?.Id;

    /// <summary>
    /// SIGTERM, then SIGKILL after a short grace: the next contender needs the ports, and a graceful drain is not
    /// what is being measured.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (Process is null)
        {
            return;
        }

        try
        {
            await Process.StopAsync(StopGrace);
        }
        catch (TimeoutException)
        {
            // Killed but its output pipe stayed open (a child holding it): the namespace teardown reaps it.
        }

        await Process.DisposeAsync();
    }
}
