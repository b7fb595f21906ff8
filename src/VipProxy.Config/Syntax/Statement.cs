using VipProxy.Config.Diagnostics;

namespace VipProxy.Config.Syntax;

/// <summary>
/// One line of keepalived.conf: a keyword, its arguments, and the block that follows it if any
/// (<c>{</c> glued to the line or alone on the next line).
/// </summary>
public sealed record Statement(Token Keyword, IReadOnlyList<Token> Arguments, StatementBlock? Block)
{
    public string Name => Keyword.Text;

    public SourceLocation Location => Keyword.Location;

    /// <summary>Where the whole statement ends: used to point at "missing argument".</summary>
    public SourceLocation EndLocation { get; init; } = Keyword.Location;
}

/// <summary>The statements between a <c>{</c> and its matching <c>}</c>.</summary>
public sealed record StatementBlock(SourceLocation OpenBrace, IReadOnlyList<Statement> Statements);
