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

    /// <summary>
    /// Files read through <c>include</c> in one load. The cycle check stops a file including itself, but files that
    /// glob-include each other (a conf.d whose files all say <c>include conf.d/*</c>) still multiply along every
    /// acyclic path, up to n!/(n-16)! reads: a hang, not a configuration.
    /// </summary>
    public const int MaxIncludedFiles = 1000;

    /// <summary>
    /// Lines that <c>~SEQ</c>/<c>~LST</c> may produce in one load: keepalived's own example makes 65,024 instances, a
    /// typo in a range (<c>~SEQ(I, 1, 1000000000)</c>) must not hang the loader.
    /// </summary>
    public const int MaxRepeatedLines = 100_000;

    /// <summary>The longest line that nested <c>$NAME</c> definitions may make (a definition that uses itself doubles it each time).</summary>
    public const int MaxExpandedLineLength = 64 * 1024;

    /// <summary>All text that nested <c>$NAME</c> definitions may make in one load, <c>~SEQ</c> passes included.</summary>
    public const long MaxExpandedCharacters = 16L * 1024 * 1024;

    /// <summary>How deeply <c>~SEQ</c>/<c>~LST</c> may nest on one line.</summary>
    public const int MaxRepetitionDepth = 16;
}
