using System.Text.Json.Serialization;
using VipProxy.Vrrp;

namespace VipProxy.Host.Status;

/// <summary>
/// What <c>vipproxy status --json</c> prints: keepalived's state dump plus <c>ipvsadm -Ln --stats</c>.
/// Field names are part of the interface operators script against: add fields, never rename them.
/// </summary>
public sealed record StatusReport(
    string RouterId,
    int Pid,
    string ConfigFile,
    DateTimeOffset StartedAt,
    ReloadStatus? LastReload,
    IReadOnlyList<VrrpInstanceStatus> VrrpInstances,
    IReadOnlyList<VirtualServerReport> VirtualServers)
{
    /// <summary>The operator's runtime state (<c>vipproxy server …</c>, <c>vipproxy vrrp demote</c>) and where it is kept.</summary>
    public OperatorStateReport? OperatorState { get; init; }
}

/// <summary>The state file and what it holds: overridden real servers and demoted instances, each with when it was set.</summary>
public sealed record OperatorStateReport(
    string StateFile,
    IReadOnlyList<Operations.ServerOverride> Servers,
    IReadOnlyList<Operations.InstanceOverride> DemotedInstances);

public sealed record ReloadStatus(DateTimeOffset At, bool Applied, IReadOnlyList<string> Errors);

public sealed record VirtualServerReport(
    string Address,
    int Port,
    string Scheduler,
    bool Listening,
    bool QuorumUp,
    int PersistenceEntries,
    long ActiveConnections,
    long TotalConnections,
    long RefusedConnections,
    IReadOnlyList<RealServerReport> RealServers)
{
    /// <summary>Of <see cref="RefusedConnections"/>: clients refused by <c>maxconn_per_source</c>.</summary>
    public long SourceLimitRefused { get; init; }

    /// <summary>Of <see cref="RefusedConnections"/>: clients refused by <c>conn_rate_per_source</c>.</summary>
    public long SourceRateRefused { get; init; }

    /// <summary>Client IPs held by the per-source admission table now.</summary>
    public int TrackedSources { get; init; }

    /// <summary>For a writer pool (<c>MYSQL_CHECK { role primary }</c>): true while more than one server reports
    /// writable, so <c>writer_conflict</c> decides; null when the virtual server has no writer.</summary>
    public bool? WriterConflict { get; init; }

    /// <summary>How many writer conflicts began since the virtual server's checks started.</summary>
    public long WriterConflicts { get; init; }
}

public sealed record RealServerReport(
    string Address,
    int Port,
    int Weight,
    bool Up,
    string? LastCheck,
    DateTimeOffset? LastCheckAt,
    long ActiveConnections,
    long InactiveConnections,
    long TotalConnections,
    long BytesIn,
    long BytesOut,
    long FailedConnects,
    bool Suspect)
{
    /// <summary>The weight in the configuration (<see cref="RealServerReport.Weight"/> is the one in force).</summary>
    public int ConfiguredWeight { get; init; }

    /// <summary>The operator's mode: <c>drain</c>, <c>disable</c>, or null (none).</summary>
    public string? Operator { get; init; }

    /// <summary>The operator's runtime weight, or null.</summary>
    public int? OperatorWeight { get; init; }

    /// <summary>When the operator's override was set, or null.</summary>
    public DateTimeOffset? OperatorSetAt { get; init; }

    /// <summary>A <c>backup</c> server (used only while no non-backup server is up).</summary>
    public bool Backup { get; init; }

    /// <summary>True while this backup takes no new clients because a non-backup server is up.</summary>
    public bool StandingBy { get; init; }
}

/// <summary>Source-generated JSON (Native AOT has no reflection), snake_case like keepalived's keywords.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, WriteIndented = true)]
[JsonSerializable(typeof(StatusReport))]
public sealed partial class StatusJsonContext : JsonSerializerContext;
