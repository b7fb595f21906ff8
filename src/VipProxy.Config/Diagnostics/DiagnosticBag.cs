namespace VipProxy.Config.Diagnostics;

/// <summary>
/// Collects every problem in one pass. The parser never stops at the first error: operators fix a file
/// faster when they see all of its problems at once.
/// </summary>
public sealed class DiagnosticBag
{
    private readonly List<Diagnostic> _items = [];

    public IReadOnlyList<Diagnostic> Items => _items;

    public bool HasErrors => _items.Exists(d => d.Severity == DiagnosticSeverity.Error);

    public void Error(SourceLocation at, string message) => _items.Add(new(DiagnosticSeverity.Error, at, message));

    public void Warning(SourceLocation at, string message) => _items.Add(new(DiagnosticSeverity.Warning, at, message));

    public void Note(SourceLocation at, string message) => _items.Add(new(DiagnosticSeverity.Note, at, message));

    /// <summary>Takes over what another bag collected (a block bound on its own, kept only if it is not refused).</summary>
    public void AddRange(DiagnosticBag other) => _items.AddRange(other._items);
}
