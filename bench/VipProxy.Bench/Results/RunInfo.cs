namespace VipProxy.Bench.Results;

/// <summary>What was measured, when, on what: enough to tell two result files apart and judge them.</summary>
internal sealed class RunInfo
{
    public required string Commit { get; init; }

    /// <summary>True when src/ had uncommitted changes: the figures are then for code no commit holds.</summary>
    public required bool SourceDirty { get; init; }

    public required DateTime StartedUtc { get; init; }

    public DateTime FinishedUtc { get; set; }

    public required string Mode { get; init; }

    public required int Rounds { get; init; }

    public required int DurationSeconds { get; init; }

    /// <summary>Idle connections actually held: the asked number, capped by the fd limit once the LAN is up.</summary>
    public required int IdleConnections { get; set; }

    public required string CommandLine { get; init; }

    /// <summary>False when the run was interrupted (Ctrl-C) or aborted: the figures so far are still written.</summary>
    public bool Complete { get; set; }

    public string? AbortReason { get; set; }

    public required IReadOnlyDictionary<string, string> Machine { get; init; }

    public List<string> Notes { get; } = [];
}
