namespace VipProxy.Forwarding.Runtime;

/// <summary>Process-wide forwarder settings that are not part of keepalived.conf.</summary>
public sealed record ForwarderOptions
{
    /// <summary>Default settings.</summary>
    public static ForwarderOptions Default { get; } = new();

    /// <summary>Event loops (<c>forwarder_threads</c>) for a runtime that starts its own; 0 means one per CPU this
    /// process may run on.</summary>
    public int Threads { get; init; }

    /// <summary>Read size of the copy path for a runtime that starts its own loops (tests use small sizes to drive
    /// the splice path); a read that fills it switches its direction to splice.</summary>
    internal int CopySize { get; init; } = Loop.EventLoop.DefaultCopySize;

    /// <summary>The kernel adapter for a runtime that starts its own loops (tests wrap it to inject faults).</summary>
    internal Loop.ILoopKernel Kernel { get; init; } = Loop.LinuxLoopKernel.Instance;

    /// <summary>One line per finished connection (<c>log_connections</c>, default on).</summary>
    public bool LogConnections { get; init; } = true;

    /// <summary>The forwarder settings of <c>global_defs</c> (<c>forwarder_threads</c>, <c>log_connections</c>).</summary>
    public static ForwarderOptions From(Config.Model.GlobalDefinitions global)
    {
        ArgumentNullException.ThrowIfNull(global);
        return Default with { Threads = global.ForwarderThreads ?? 0, LogConnections = global.LogConnections };
    }

    /// <summary>Connect attempts per client, each to a different real server, before giving up (redispatch
    /// bound). Never more than the number of usable real servers.</summary>
    public int MaxConnectAttempts { get; init; } = 3;

    /// <summary>
    /// Longest time a real server stays suspect after a failed forwarder connect (refused, unreachable, timed out):
    /// it gets no new clients until the health checker reports it up or this hold-down ends. The hold-down applied is
    /// min(<c>delay_loop</c>, this): by then the checker has had a full period to give its own verdict, and a server
    /// that only blipped (a restart, a full backlog) is not kept out for keepalived's default 60 s. Zero turns
    /// suspicion off (every failed connect is then retried by the next client that is scheduled there).
    /// </summary>
    public TimeSpan SuspectHoldDown { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Most client IPs tracked per virtual server for <c>maxconn_per_source</c> and
    /// <c>conn_rate_per_source</c> (see <see cref="Admission.SourceAdmissionTable"/>; about 170 bytes each, so under 12 MiB at the default).</summary>
    public int MaxTrackedSources { get; init; } = Admission.SourceAdmissionTable.DefaultCapacity;

    /// <summary>listen(2) backlog (the kernel caps it at net.core.somaxconn).</summary>
    public int ListenBacklog { get; init; } = 4096;

    /// <summary>Period of persistence and per-source sweeps and of pruning drained real servers.</summary>
    public TimeSpan HousekeepingPeriod { get; init; } = TimeSpan.FromSeconds(1);
}
