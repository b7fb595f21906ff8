using VipProxy.Bench.Infrastructure;

namespace VipProxy.Bench.Contenders;

/// <summary>What a contender needs to start: where it runs, what it forwards, where it may write its files.</summary>
internal sealed class ContenderContext
{
    private int _instanceSerial;

    public ContenderContext(BenchTopology topology, string workDirectory, BenchLog log, IReadOnlyList<Service> services,
        long openFilesLimit)
    {
        Topology = topology;
        WorkDirectory = workDirectory;
        Log = log;
        Services = services;
        OpenFilesLimit = openFilesLimit;
    }

    public BenchTopology Topology { get; }

    public string WorkDirectory { get; }

    public BenchLog Log { get; }

    /// <summary>The backend services every proxy forwards (same port on the LB as on the real server).</summary>
    public IReadOnlyList<Service> Services { get; }

    /// <summary>RLIMIT_NOFILE every process of the run inherits; HAProxy's maxconn is derived from it.</summary>
    public long OpenFilesLimit { get; }

    /// <summary>A fresh directory for one instance's config, pid file and socket.</summary>
    public string NewInstanceDirectory(string name) =>
        Directory.CreateDirectory(Path.Combine(WorkDirectory,
            $"{name}-{Interlocked.Increment(ref _instanceSerial):000}")).FullName;

    /// <summary>
    /// Connections a proxy may hold (HAProxy's maxconn, and the ceiling of the idle workload): each proxied
    /// connection costs two fds, and HAProxy with splice-auto also reserves two per pipe, so what is left of the
    /// limit after the pipes, halved, less headroom for listeners and log files. HAProxy 2.6 refuses to start when
    /// its computed need exceeds the limit (REFERENCE.md: maxconn ≤ fd limit / 2). Both HAProxy variants get the
    /// same value so they differ only in splicing.
    /// </summary>
    public int MaxProxiedConnections =>
        (int)Math.Clamp((OpenFilesLimit - (2 * HaproxyConfig.MaxPipes) - 100) / 2, 100, 100_000);
}
