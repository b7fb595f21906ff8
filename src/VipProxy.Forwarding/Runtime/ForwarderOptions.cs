using VipProxy.Forwarding.Relay;

namespace VipProxy.Forwarding.Runtime;

/// <summary>Process-wide forwarder settings that are not part of keepalived.conf.</summary>
public sealed record ForwarderOptions
{
    /// <summary>Default settings.</summary>
    public static ForwarderOptions Default { get; } = new();

    /// <summary>The data path. <see cref="RelayKind.Splice"/> (<see cref="RelayFactory.DefaultKind"/>) measured
    /// cheapest (bench/results/relay-microbench.md).</summary>
    public RelayKind Relay { get; init; } = RelayFactory.DefaultKind;

    /// <summary>Read size of the relay (held only while data flows); for splice, the user-space fallback buffer.</summary>
    public int RelayBufferSize { get; init; } = SocketCopyRelay.DefaultBufferSize;

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

    /// <summary>Period of persistence sweeps and of pruning drained real servers. The idle-timeout sweep runs at a
    /// quarter of the idle timeout when that is shorter.</summary>
    public TimeSpan HousekeepingPeriod { get; init; } = TimeSpan.FromSeconds(1);
}
