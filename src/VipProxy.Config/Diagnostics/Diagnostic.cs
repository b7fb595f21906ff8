namespace VipProxy.Config.Diagnostics;

public enum DiagnosticSeverity
{
    /// <summary>Additional context attached to the previous error or warning ("opened here").</summary>
    Note,
    /// <summary>Deprecated or no-op forms: printed, but the file is still accepted.</summary>
    Warning,
    /// <summary>The file is refused: VipProxy never runs a configuration with an error.</summary>
    Error,
}

/// <summary>One problem found in a configuration, printed as <c>FILE:LINE:COL: error: message</c>.</summary>
public sealed record Diagnostic(DiagnosticSeverity Severity, SourceLocation Location, string Message)
{
    public override string ToString()
    {
        var severity = Severity switch
        {
            DiagnosticSeverity.Error => "error",
            DiagnosticSeverity.Warning => "warning",
            _ => "note",
        };
        return $"{Location}: {severity}: {Message}";
    }
}
