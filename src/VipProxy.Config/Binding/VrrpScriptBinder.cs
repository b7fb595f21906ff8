using VipProxy.Config.Diagnostics;
using VipProxy.Config.Model;
using VipProxy.Config.Syntax;

namespace VipProxy.Config.Binding;

/// <summary><c>vrrp_script NAME { … }</c>.</summary>
internal static class VrrpScriptBinder
{
    public sealed class Builder(string name, SourceLocation location)
    {
        public string Name { get; } = name;
        public SourceLocation Location { get; } = location;
        public ScriptCommand? Script;
        public TimeSpan Interval = TimeSpan.FromSeconds(1);
        public TimeSpan? Timeout;
        public int Weight;
        public bool WeightReverse;
        public int Rise = 1;
        public int Fall = 1;
        public ScriptAccount? User;
        public bool InitFail;

        public VrrpScript? Build(BindContext context)
        {
            if (Script is null)
            {
                context.Error(Location, $"vrrp_script {Name} has no 'script': write 'script \"/path/to/check ARGS\"'");
                return null;
            }

            return new VrrpScript(Name, Script, Interval, Timeout ?? Interval, Weight, WeightReverse, Rise, Fall, User, InitFail);
        }
    }

    public static readonly KeywordTable<Builder> Table = new("vrrp_script")
    {
        { "script", (b, s, c) => { if (c.Script(s, out var command)) { b.Script = command; } } },
        { "interval", (b, s, c) => { if (c.Arguments(s, 1, 1, "interval SECONDS") && c.Seconds(s.Arguments[0], s.Name, 0.001, 86_400, out var v)) { b.Interval = v; } } },
        { "timeout", (b, s, c) => { if (c.Arguments(s, 1, 1, "timeout SECONDS") && c.Seconds(s.Arguments[0], s.Name, 0.001, 86_400, out var v)) { b.Timeout = v; } } },
        { "weight", BindWeight },
        { "rise", (b, s, c) => { if (c.Arguments(s, 1, 1, "rise COUNT") && c.Integer(s.Arguments[0], s.Name, 1, 1000, out int v)) { b.Rise = v; } } },
        { "fall", (b, s, c) => { if (c.Arguments(s, 1, 1, "fall COUNT") && c.Integer(s.Arguments[0], s.Name, 1, 1000, out int v)) { b.Fall = v; } } },
        { "user", (b, s, c) => { if (c.Account(s, out var account)) { b.User = account; } } },
        { "init_fail", (b, on) => b.InitFail = on },
    };

    private static void BindWeight(Builder builder, Statement statement, BindContext context)
    {
        if (!context.Arguments(statement, 1, 2, "weight N [reverse]")
            || !context.Integer(statement.Arguments[0], statement.Name, -253, 253, out int weight))
        {
            return;
        }

        if (statement.Arguments.Count == 2)
        {
            if (statement.Arguments[1].Text != "reverse")
            {
                context.Error(statement.Arguments[1].Location, $"unexpected '{statement.Arguments[1].Text}' after the weight: only 'reverse' may follow it");
                return;
            }

            builder.WeightReverse = true;
        }

        builder.Weight = weight;
    }

    public static Builder Create(Statement statement, BindContext context)
    {
        string name = statement.Arguments.Count > 0 ? statement.Arguments[0].Text : "";
        context.Arguments(statement, 1, 1, "vrrp_script NAME { … }");
        return new Builder(name, statement.Location);
    }
}
