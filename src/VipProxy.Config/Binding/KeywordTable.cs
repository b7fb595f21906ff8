using System.Collections;
using VipProxy.Config.Syntax;

namespace VipProxy.Config.Binding;

internal enum BlockUse
{
    /// <summary>A plain <c>keyword value…</c> line.</summary>
    None,
    /// <summary>A <c>keyword … { … }</c> block.</summary>
    Required,
}

/// <summary>
/// The keywords one kind of block accepts, each with the code that reads it. The table is also the list
/// that unknown keywords are compared against for "did you mean".
/// </summary>
internal sealed class KeywordTable<TBuilder> : IEnumerable<string>, IKeywordTable
{
    private readonly Dictionary<string, Rule> _rules = new(StringComparer.Ordinal);

    public KeywordTable(string blockName)
    {
        BlockName = blockName;
        // Every table registers itself, so the man page and the keyword list can never miss one.
        KeywordTableRegistry.Register(this);
    }

    public string BlockName { get; }

    public IEnumerable<string> Keywords => _rules.Keys;

    public void Add(string keyword, Action<TBuilder, Statement, BindContext> bind, BlockUse block = BlockUse.None, bool repeatable = false) =>
        _rules.Add(keyword, new Rule(bind, block, repeatable));

    /// <summary>
    /// A flag (a rule that takes the builder and a bool): alone or with yes|on|true it is set, with no|off|false it is
    /// cleared, as keepalived 2.x reads flags; every flag of every block goes through <see cref="BindContext.Flag"/>.
    /// </summary>
    public void Add(string keyword, Action<TBuilder, bool> setFlag) =>
        Add(keyword, (builder, statement, context) =>
        {
            if (context.Flag(statement, BlockName, out bool on))
            {
                setFlag(builder, on);
            }
        });

    /// <summary>Binds every statement of a block; unknown, misplaced and malformed ones are reported and skipped.</summary>
    public void Bind(TBuilder builder, IReadOnlyList<Statement> statements, BindContext context)
    {
        var seen = new Dictionary<string, Statement>(StringComparer.Ordinal);
        foreach (Statement statement in statements)
        {
            if (!_rules.TryGetValue(statement.Name, out Rule? rule))
            {
                context.ReportUnknown(statement, this);
                continue;
            }

            if (rule.Block == BlockUse.Required && statement.Block is null)
            {
                context.Error(statement.EndLocation, $"'{statement.Name}' needs a block: '{statement.Name} … {{ … }}'");
                continue;
            }

            if (rule.Block == BlockUse.None && statement.Block is not null)
            {
                context.Error(statement.Block.OpenBrace, $"'{statement.Name}' takes no block");
                continue;
            }

            if (!rule.Repeatable && seen.TryGetValue(statement.Name, out Statement? earlier))
            {
                context.Warning(statement.Location, $"'{statement.Name}' is already set at line {earlier.Location.Line}; this later value is used");
            }

            seen[statement.Name] = statement;
            rule.Bind(builder, statement, context);
        }
    }

    public IEnumerator<string> GetEnumerator() => _rules.Keys.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    private sealed record Rule(Action<TBuilder, Statement, BindContext> Bind, BlockUse Block, bool Repeatable);
}

/// <summary>Every keyword table that was created, in creation order.</summary>
internal static class KeywordTableRegistry
{
    private static readonly Lock Gate = new();
    private static readonly List<IKeywordTable> Tables = [];

    public static void Register(IKeywordTable table)
    {
        lock (Gate)
        {
            Tables.Add(table);
        }
    }

    public static IReadOnlyList<IKeywordTable> All()
    {
        lock (Gate)
        {
            return [.. Tables];
        }
    }
}

/// <summary>What <see cref="BindContext.ReportUnknown"/> needs of any table.</summary>
internal interface IKeywordTable
{
    string BlockName { get; }

    IEnumerable<string> Keywords { get; }
}
