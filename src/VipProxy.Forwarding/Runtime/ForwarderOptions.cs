using VipProxy.Forwarding.Relay;

namespace VipProxy.Forwarding.Runtime;

/// <summary>Process-wide forwarder settings that are not part of keepalived.conf.</summary>
public sealed record ForwarderOptions
{
    /// <summary>Default settings.</summary>
    public static ForwarderOptions Default { get; } = new();

    /// <summary>The data path. <see cref="RelayKind.SocketCopy"/> measured cheapest (bench/relay-microbench).</summary>
    public RelayKind Relay { get; init; } = RelayKind.SocketCopy;

    /// <summary>Read size of the relay (held only while data flows).</summary>
    public int RelayBufferSize { get; init; } = SocketCopyRelay.DefaultBufferSize;

    /// <summary>Connect attempts per client, each to a different real server, before giving up (redispatch
    /// bound). Never more than the number of usable real servers.</summary>
    public int MaxConnectAttempts { get; init; } = 3;

    /// <summary>listen(2) backlog (the kernel caps it at net.core.somaxconn).</summary>
    public int ListenBacklog { get; init; } = 4096;

    /// <summary>Period of persistence sweeps and of pruning drained real servers. The idle-timeout sweep runs at a
    /// quarter of the idle timeout when that is shorter.</summary>
    public TimeSpan HousekeepingPeriod { get; init; } = TimeSpan.FromSeconds(1);
}
