using VipProxy.Config.Diagnostics;
using VipProxy.Config.Model;

namespace VipProxy.Config;

/// <summary>The outcome of loading a file: a model only when there is no error, and every diagnostic either way.</summary>
public sealed record ConfigLoadResult(KeepalivedConfig? Config, IReadOnlyList<Diagnostic> Diagnostics)
{
    public bool HasErrors => Diagnostics.Any(d => d.Severity == DiagnosticSeverity.Error);

    public IEnumerable<Diagnostic> Errors => Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error);

    public IEnumerable<Diagnostic> Warnings => Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Warning);
}
