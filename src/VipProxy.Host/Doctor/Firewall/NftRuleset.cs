using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace VipProxy.Host.Doctor.Firewall;

/// <summary>
/// Reads <c>nft -j list ruleset</c> into <see cref="FirewallRuleset"/>: the ip and inet tables' filter base chains
/// and every chain they can jump to, each rule's matches compiled to a condition on a <see cref="FirewallPacket"/>.
/// The JSON has no rule text, so <c>nft -a list ruleset</c> supplies it by handle when given.
/// </summary>
internal static partial class NftRuleset
{
    public const string Tool = "nftables";

    public static FirewallRuleset Parse(string json, string? listing = null)
    {
        Dictionary<(string, string, string, long), string> texts = listing is null ? new() : RuleTexts(listing);
        var chains = new Dictionary<(string Family, string Table, string Chain), (PacketDirection? Direction, bool PolicyDrops, List<FirewallRule> Rules)>();
        // The compiled conditions keep JsonElements of the rules: a clone outlives the pooled document.
        JsonElement root;
        using (JsonDocument document = JsonDocument.Parse(json))
        {
            root = document.RootElement.Clone();
        }

        if (!root.TryGetProperty("nftables", out JsonElement items) || items.ValueKind != JsonValueKind.Array)
        {
            return new FirewallRuleset(Tool, []);
        }

        foreach (JsonElement item in items.EnumerateArray())
        {
            if (item.TryGetProperty("chain", out JsonElement chain) && IsIPv4Family(StringProperty(chain, "family")))
            {
                // nat and route chains translate or reroute; only filter chains decide whether a packet passes.
                PacketDirection? direction = StringProperty(chain, "type") is "filter" or "" ? HookDirection(StringProperty(chain, "hook")) : null;
                chains[(StringProperty(chain, "family"), StringProperty(chain, "table"), StringProperty(chain, "name"))] = (direction, StringProperty(chain, "policy") == "drop", []);
            }
            else if (item.TryGetProperty("rule", out JsonElement rule) && IsIPv4Family(StringProperty(rule, "family"))
                && chains.TryGetValue((StringProperty(rule, "family"), StringProperty(rule, "table"), StringProperty(rule, "chain")), out var owner))
            {
                owner.Rules.Add(CompileRule(rule, texts));
            }
        }

        return new FirewallRuleset(Tool, [.. chains.Select(c => new FirewallChain(
            $"{c.Key.Family} {c.Key.Table}",
            c.Key.Chain,
            $"table {c.Key.Family} {c.Key.Table}, chain {c.Key.Chain}",
            c.Value.Direction,
            c.Value.PolicyDrops,
            c.Value.Rules))]);
    }

    private static bool IsIPv4Family(string family) => family is "ip" or "inet";

    private static PacketDirection? HookDirection(string hook) => hook switch
    {
        "prerouting" or "input" => PacketDirection.Received,
        "output" or "postrouting" => PacketDirection.Sent,
        _ => null,
    };

    private static FirewallRule CompileRule(JsonElement rule, Dictionary<(string, string, string, long), string> texts)
    {
        string family = StringProperty(rule, "family");
        string table = StringProperty(rule, "table");
        string chain = StringProperty(rule, "chain");
        long handle = rule.TryGetProperty("handle", out JsonElement h) && h.TryGetInt64(out long value) ? value : -1;
        var conditions = new List<Func<FirewallPacket, Tri>>();
        RuleVerdict verdict = RuleVerdict.None;
        string? target = null;
        if (rule.TryGetProperty("expr", out JsonElement expressions) && expressions.ValueKind == JsonValueKind.Array)
        {
            foreach (JsonElement expression in expressions.EnumerateArray())
            {
                foreach (JsonProperty statement in expression.EnumerateObject())
                {
                    switch (statement.Name)
                    {
                        case "match":
                            conditions.Add(CompileMatch(statement.Value));
                            break;
                        case "accept":
                            verdict = RuleVerdict.Accept;
                            break;
                        case "drop" or "reject":
                            verdict = RuleVerdict.Drop;
                            break;
                        case "return":
                            verdict = RuleVerdict.Return;
                            break;
                        case "jump" or "goto":
                            verdict = statement.Name == "jump" ? RuleVerdict.Jump : RuleVerdict.Goto;
                            target = statement.Value.ValueKind == JsonValueKind.Object ? StringProperty(statement.Value, "target") : null;
                            break;
                        case "limit" or "xt" or "quota" or "numgen" or "meter":
                            // Rate limits, iptables-compat matches, quotas: the doctor cannot know whether they hold.
                            conditions.Add(_ => Tri.Maybe);
                            break;
                        default:
                            // counter, log, mangle, nat and other statements do not decide the packet's fate.
                            break;
                    }
                }
            }
        }

        string location = $"table {family} {table}, chain {chain}, handle {handle}";
        string text = texts.TryGetValue((family, table, chain, handle), out string? written) ? written : $"handle {handle}";
        Func<FirewallPacket, Tri>[] all = [.. conditions];
        return new FirewallRule(location, text, packet => all.Aggregate(Tri.Yes, (acc, condition) => TriLogic.And(acc, condition(packet))), verdict, target);
    }

    private static Func<FirewallPacket, Tri> CompileMatch(JsonElement match)
    {
        string op = StringProperty(match, "op");
        if (!match.TryGetProperty("left", out JsonElement left) || !match.TryGetProperty("right", out JsonElement right))
        {
            return _ => Tri.Maybe;
        }

        Func<FirewallPacket, Tri> equals = CompileField(left, right);
        return op switch
        {
            "==" or "in" or "" => equals,
            "!=" => packet => TriLogic.Not(equals(packet)),
            _ => _ => Tri.Maybe,
        };
    }

    /// <summary>"left == right" for the fields the doctor's packets have; anything else is <see cref="Tri.Maybe"/>.</summary>
    private static Func<FirewallPacket, Tri> CompileField(JsonElement left, JsonElement right)
    {
        if (left.TryGetProperty("payload", out JsonElement payload))
        {
            string protocol = StringProperty(payload, "protocol");
            string field = StringProperty(payload, "field");
            return (protocol, field) switch
            {
                ("ip", "protocol") => packet => Values(right, v => PacketFields.IsProtocol(v, packet.Protocol)),
                ("ip", "daddr") => packet => Values(right, v => AddressIn(v, packet.Destination)),
                ("ip", "saddr") => packet => packet.Source is null ? Tri.Maybe : Values(right, v => AddressIn(v, packet.Source)),
                ("ip6", _) => _ => Tri.No,
                ("tcp", "dport") => packet => packet.Protocol != FirewallPacket.Tcp ? Tri.No : Port(right, packet),
                ("udp" or "sctp" or "dccp" or "udplite", _) => packet => packet.Protocol == FirewallPacket.Tcp || packet.Protocol == FirewallPacket.Vrrp ? Tri.No : Tri.Maybe,
                ("tcp", _) => packet => packet.Protocol != FirewallPacket.Tcp ? Tri.No : Tri.Maybe,
                // th (the transport header) has ports only in TCP, UDP, SCTP and DCCP; VRRP has none.
                ("th", "dport") => packet => packet.Protocol != FirewallPacket.Tcp ? Tri.No : Port(right, packet),
                _ => _ => Tri.Maybe,
            };
        }

        if (left.TryGetProperty("meta", out JsonElement meta))
        {
            return StringProperty(meta, "key") switch
            {
                "l4proto" => packet => Values(right, v => PacketFields.IsProtocol(v, packet.Protocol)),
                "iifname" or "iif" => packet => Values(right, v => PacketFields.Interface(v, packet, input: true)),
                "oifname" or "oif" => packet => Values(right, v => PacketFields.Interface(v, packet, input: false)),
                "nfproto" => _ => Values(right, v => v is "ipv4" or "2"),
                "protocol" => _ => Values(right, v => v is "ip" or "0x0800" or "2048"),
                "pkttype" => packet => Values(right, v => v == (packet.Multicast ? "multicast" : "host")),
                _ => _ => Tri.Maybe,
            };
        }

        if (left.TryGetProperty("ct", out JsonElement ct) && StringProperty(ct, "key") == "state")
        {
            // The doctor's packets open nothing: a VRRP advert is never answered, so conntrack keeps it NEW, and a
            // client's SYN is NEW.
            return _ => Values(right, v => v == "new");
        }

        return _ => Tri.Maybe;
    }

    /// <summary>Applies <paramref name="test"/> to a value, an anonymous set or a list; a named set (@name) is unknown.</summary>
    private static Tri Values(JsonElement right, Func<string, bool> test) => Values(right, v => TriLogic.Of(test(v)));

    private static Tri Values(JsonElement right, Func<string, Tri> test)
    {
        switch (right.ValueKind)
        {
            case JsonValueKind.String:
                string value = right.GetString()!;
                return value.StartsWith('@') || value.StartsWith('$') ? Tri.Maybe : test(value);
            case JsonValueKind.Number:
                return test(right.GetRawText());
            case JsonValueKind.Array:
                return AnyOf(right.EnumerateArray(), test);
            case JsonValueKind.Object when right.TryGetProperty("set", out JsonElement set):
                return set.ValueKind == JsonValueKind.Array ? AnyOf(set.EnumerateArray(), test) : Values(set, test);
            case JsonValueKind.Object when right.TryGetProperty("prefix", out JsonElement prefix):
                return test($"{StringProperty(prefix, "addr")}/{(prefix.TryGetProperty("len", out JsonElement len) ? len.GetRawText() : "32")}");
            case JsonValueKind.Object when right.TryGetProperty("range", out JsonElement range) && range.GetArrayLength() == 2:
                return test($"{Scalar(range[0])}-{Scalar(range[1])}");
            default:
                return Tri.Maybe;
        }
    }

    private static Tri AnyOf(JsonElement.ArrayEnumerator items, Func<string, Tri> test)
    {
        Tri result = Tri.No;
        foreach (JsonElement item in items)
        {
            // A set element may be "elem" with a timeout or counter around the value.
            JsonElement value = item.ValueKind == JsonValueKind.Object && item.TryGetProperty("elem", out JsonElement elem) && elem.TryGetProperty("val", out JsonElement val) ? val : item;
            Tri one = Values(value, test);
            if (one == Tri.Yes)
            {
                return Tri.Yes;
            }

            if (one == Tri.Maybe)
            {
                result = Tri.Maybe;
            }
        }

        return result;
    }

    private static Tri Port(JsonElement right, FirewallPacket packet) =>
        packet.DestinationPort is not int port ? Tri.Maybe : Values(right, v => PortIn(v, port));

    private static bool PortIn(string value, int port)
    {
        string[] range = value.Split('-', 2);
        return range.Length == 2
            ? int.TryParse(range[0], CultureInfo.InvariantCulture, out int low) && int.TryParse(range[1], CultureInfo.InvariantCulture, out int high) && low <= port && port <= high
            : int.TryParse(value, CultureInfo.InvariantCulture, out int single) && single == port;
    }

    private static bool AddressIn(string value, IPAddress address)
    {
        string[] range = value.Split('-', 2);
        if (range.Length == 2 && IPAddress.TryParse(range[0], out IPAddress? first) && IPAddress.TryParse(range[1], out IPAddress? last))
        {
            return PacketFields.InRange(first, last, address);
        }

        return PacketFields.ContainsAddress(value, address) ?? false;
    }

    private static string Scalar(JsonElement element) => element.ValueKind == JsonValueKind.String ? element.GetString()! : element.GetRawText();

    private static string StringProperty(JsonElement element, string name) =>
        element.TryGetProperty(name, out JsonElement value) && value.ValueKind == JsonValueKind.String ? value.GetString()! : "";

    /// <summary>"family table chain handle" → the rule's text from <c>nft -a list ruleset</c>.</summary>
    internal static Dictionary<(string, string, string, long), string> RuleTexts(string listing)
    {
        var texts = new Dictionary<(string, string, string, long), string>();
        string family = "", table = "";
        string? chain = null;
        int depth = 0;
        int chainDepth = -1;
        foreach (string raw in listing.Split('\n'))
        {
            string line = raw.Trim();
            Match header = BlockHeader().Match(line);
            if (header.Success)
            {
                depth++;
                string kind = header.Groups["kind"].Value;
                if (kind == "table")
                {
                    string[] names = header.Groups["names"].Value.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                    (family, table) = names.Length == 2 ? (names[0], names[1]) : ("ip", names[0]);
                }
                else if (kind == "chain")
                {
                    chain = header.Groups["names"].Value.Trim();
                    chainDepth = depth;
                }

                continue;
            }

            Match rule = RuleLine().Match(line);
            if (chain is not null && depth == chainDepth && rule.Success)
            {
                texts[(family, table, chain, long.Parse(rule.Groups["handle"].Value, CultureInfo.InvariantCulture))] = rule.Groups["text"].Value.Trim();
            }

            // Multi-line set elements open and close braces on lines of their own.
            depth += line.Count(c => c == '{') - line.Count(c => c == '}');
            if (chain is not null && depth < chainDepth)
            {
                chain = null;
                chainDepth = -1;
            }
        }

        return texts;
    }

    [GeneratedRegex(@"^(?<kind>table|chain|set|map|flowtable|counter|quota|limit|ct \w+|secmark|synproxy)\s+(?<names>[^{]*)\{\s*(#.*)?$")]
    private static partial Regex BlockHeader();

    [GeneratedRegex(@"^(?<text>.+?)\s+# handle (?<handle>\d+)$")]
    private static partial Regex RuleLine();
}
