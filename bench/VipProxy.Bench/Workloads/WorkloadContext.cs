using VipProxy.Bench.Contenders;
using VipProxy.Bench.Infrastructure;

namespace VipProxy.Bench.Workloads;

/// <summary>What a workload runs against: the LAN, how to start contenders, and how long to load them.</summary>
internal sealed class WorkloadContext(BenchTopology topology, ContenderContext contenders, BenchOptions options, BenchLog log)
{
    public BenchTopology Topology { get; } = topology;

    public ContenderContext Contenders { get; } = contenders;

    public BenchOptions Options { get; } = options;

    public BenchLog Log { get; } = log;

    public int DurationSeconds => Options.DurationSeconds;

    /// <summary>A load tool gets its run time plus this before it is killed as hung (every loop is bounded).</summary>
    public static TimeSpan ToolSlack { get; } = TimeSpan.FromSeconds(30);

    public TimeSpan ToolTimeout => TimeSpan.FromSeconds(DurationSeconds) + ToolSlack;

    /// <summary>Idle connections to hold: as asked, capped so that the proxy stays within its fd limit. HAProxy's
    /// cap is its maxconn (which must leave room for its pipes); VipProxy needs only its two fds per connection.</summary>
    public int IdleConnections => Math.Min(Options.IdleConnections, Contenders.MaxProxiedConnections - 100);

    /// <summary>The cap for one contender (see <see cref="IdleConnections"/>).</summary>
    public int IdleConnectionsFor(Contender? contender) => contender is VipProxyContender
        ? (int)Math.Min(Options.IdleConnections, (Contenders.OpenFilesLimit - 300) / 2)
        : IdleConnections;

    /// <summary>The most idle connections any contender holds (the backend is sized for it).</summary>
    public int MaxIdleConnections => (int)Math.Min(Options.IdleConnections, Math.Max(IdleConnections, (Contenders.OpenFilesLimit - 300) / 2));
}
