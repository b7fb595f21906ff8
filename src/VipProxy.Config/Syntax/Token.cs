using VipProxy.Config.Diagnostics;

namespace VipProxy.Config.Syntax;

public enum TokenKind
{
    Word,
    /// <summary>A <c>"…"</c> string: always one token, never a brace or keyword.</summary>
    QuotedString,
    OpenBrace,
    CloseBrace,
    /// <summary>End of a source line: keepalived's grammar is line oriented, so statements end here.</summary>
    EndOfLine,
}

public readonly record struct Token(TokenKind Kind, string Text, SourceLocation Location)
{
    public override string ToString() => Kind switch
    {
        TokenKind.EndOfLine => "end of line",
        TokenKind.QuotedString => $"\"{Text}\"",
        _ => Text,
    };
}
