namespace VipProxy.Config.Diagnostics;

/// <summary>A position in a configuration file: 1-based line and column, as compilers print them.</summary>
public readonly record struct SourceLocation(string File, int Line, int Column)
{
    public override string ToString() => $"{File}:{Line}:{Column}";
}
