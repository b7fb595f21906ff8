using VipProxy.Config.Binding;

namespace VipProxy.Config;

/// <summary>The keywords one kind of block accepts.</summary>
/// <param name="Block">The block's keyword (<c>vrrp_instance</c>, <c>MYSQL_CHECK</c>, …) or "the top level".</param>
/// <param name="Keywords">Its keywords, sorted.</param>
public sealed record ConfigBlockKeywords(string Block, IReadOnlyList<string> Keywords);

/// <summary>
/// The grammar the binder really accepts, read from its own keyword tables: the source for vipproxy.conf(5), shell
/// completion and migration tools, so none of them can drift from what <c>vipproxy check</c> accepts.
/// </summary>
public static class ConfigKeywords
{
    // The order a reader meets the blocks in a file; tables not named here follow in creation order.
    private static readonly string[] ReadingOrder =
    [
        "the top level", "global_defs", "vrrp_script", "vrrp_instance", "authentication", "virtual_server", "real_server",
        "TCP_CHECK", "HTTP_GET", "url", "MISC_CHECK", "MYSQL_CHECK",
    ];

    /// <summary>Every block and its keywords.</summary>
    public static IReadOnlyList<ConfigBlockKeywords> Blocks { get; } = Read();

    /// <summary>keepalived keywords that VipProxy refuses, each with why (a <c>vipproxy check</c> error).</summary>
    public static IReadOnlyDictionary<string, string> Refused => UnsupportedKeywords.Errors;

    /// <summary>keepalived keywords that VipProxy accepts with a warning and ignores, each with why.</summary>
    public static IReadOnlyDictionary<string, string> Ignored => UnsupportedKeywords.Ignored;

    /// <summary>keepalived 2.2.7's keywords, block by block (the table refusals are judged against).</summary>
    public static IReadOnlyList<ConfigBlockKeywords> Keepalived { get; } =
        [.. KeepalivedKeywords.ByBlock.Select(b => new ConfigBlockKeywords(b.Key, [.. b.Value.Order(StringComparer.Ordinal)])).OrderBy(b => b.Block, StringComparer.Ordinal)];

    /// <summary>
    /// The keepalived keywords VipProxy does not accept, block by block: each is refused as a keepalived keyword (or,
    /// when it is in <see cref="Ignored"/>, accepted with a warning), never called unknown.
    /// </summary>
    public static IReadOnlyList<ConfigBlockKeywords> KeepalivedOnly { get; } =
    [
        .. Keepalived.Select(k => new ConfigBlockKeywords(k.Block, [.. k.Keywords.Except(Blocks.FirstOrDefault(b => b.Block == k.Block)?.Keywords ?? [], StringComparer.Ordinal)]))
            .Where(b => b.Keywords.Count > 0),
    ];

    private static List<ConfigBlockKeywords> Read()
    {
        // Touching the binder's list runs the static initialisers of every binder class, so every table exists.
        _ = ConfigBinder.AllTables.Count;
        return KeywordTableRegistry.All()
            .GroupBy(t => t.BlockName, StringComparer.Ordinal)
            .Select(g => new ConfigBlockKeywords(g.Key, [.. g.SelectMany(t => t.Keywords).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)]))
            .OrderBy(b => Array.IndexOf(ReadingOrder, b.Block) is var i && i >= 0 ? i : ReadingOrder.Length)
            .ToList();
    }
}
