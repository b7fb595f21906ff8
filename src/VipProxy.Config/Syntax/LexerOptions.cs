namespace VipProxy.Config.Syntax;

/// <summary>Inputs that change how a file reads, as keepalived's command line does.</summary>
/// <param name="NodeId">
/// Selects <c>@ID</c> lines (keepalived's <c>-i</c>/config id; its default is the short host name).
/// Null keeps only unconditional lines.
/// </param>
public sealed record LexerOptions(string? NodeId)
{
    /// <summary>Deeper nesting than this is certainly an include loop through symlinks or globs.</summary>
    public const int MaxIncludeDepth = 16;
}
