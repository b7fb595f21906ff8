using VipProxy.Config.Binding;
using VipProxy.Config.Diagnostics;
using VipProxy.Config.Syntax;
using VipProxy.Config.Text;

namespace VipProxy.Config;

/// <summary>
/// The one way in: file → tokens → statement tree → typed immutable model, with every problem collected.
/// <c>vipproxy check</c>, <c>vipproxy run</c> and reload all go through here, so they agree on what is valid.
/// </summary>
public static class ConfigLoader
{
    public static ConfigLoadResult Load(string path, ConfigLoadOptions? options = null, IConfigFileSystem? files = null)
    {
        options ??= new ConfigLoadOptions();
        var diagnostics = new DiagnosticBag();
        var lexer = new ConfigLexer(files ?? PhysicalConfigFileSystem.Instance, new LexerOptions(options.NodeId), diagnostics);
        IReadOnlyList<Token> tokens = lexer.Lex(path);
        return Finish(tokens, diagnostics, options);
    }

    /// <summary>Loads text that is not on disk; includes are still resolved relative to <paramref name="path"/>.</summary>
    public static ConfigLoadResult LoadText(string path, string text, ConfigLoadOptions? options = null, IConfigFileSystem? files = null)
    {
        options ??= new ConfigLoadOptions();
        var diagnostics = new DiagnosticBag();
        var lexer = new ConfigLexer(files ?? PhysicalConfigFileSystem.Instance, new LexerOptions(options.NodeId), diagnostics);
        IReadOnlyList<Token> tokens = lexer.LexText(path, text);
        return Finish(tokens, diagnostics, options);
    }

    private static ConfigLoadResult Finish(IReadOnlyList<Token> tokens, DiagnosticBag diagnostics, ConfigLoadOptions options)
    {
        IReadOnlyList<Statement> statements = SyntaxParser.Parse(tokens, diagnostics, ConfigBinder.TopLevelBlocks);
        var config = ConfigBinder.Bind(statements, diagnostics, options);
        // Report in file order, as a compiler does, whichever phase found the problem.
        var ordered = diagnostics.Items
            .Select((d, index) => (d, index))
            .OrderBy(x => x.d.Location.File, StringComparer.Ordinal)
            .ThenBy(x => x.d.Location.Line)
            .ThenBy(x => x.d.Location.Column)
            .ThenBy(x => x.index)
            .Select(x => x.d)
            .ToList();
        return new ConfigLoadResult(diagnostics.HasErrors ? null : config, ordered);
    }
}
