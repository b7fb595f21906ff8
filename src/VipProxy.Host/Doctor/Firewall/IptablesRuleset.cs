using System.Globalization;
using System.Text;

namespace VipProxy.Host.Doctor.Firewall;

/// <summary>
/// Reads <c>iptables-save</c> into <see cref="FirewallRuleset"/>: every table's built-in chains with their policies,
/// user chains for jumps, and the options that decide a VRRP advert or a client's SYN (-p, -s, -d, -i, -o, --dport,
/// --dports, --state, --ctstate, --pkt-type); any other match makes the rule uncertain.
/// </summary>
internal static class IptablesRuleset
{
    public const string Tool = "iptables";

    public static FirewallRuleset Parse(string save)
    {
        var chains = new List<(string Table, string Name, PacketDirection? Direction, bool PolicyDrops, List<FirewallRule> Rules)>();
        string table = "filter";
        foreach (string raw in save.Split('\n'))
        {
            string line = raw.Trim();
            if (line.StartsWith('*'))
            {
                table = line[1..];
            }
            else if (line.StartsWith(':'))
            {
                string[] parts = line[1..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (parts.Length >= 2)
                {
                    PacketDirection? direction = parts[0] switch
                    {
                        "PREROUTING" or "INPUT" => PacketDirection.Received,
                        "OUTPUT" or "POSTROUTING" => PacketDirection.Sent,
                        _ => null,
                    };

                    // nat chains translate, they do not filter; their policy cannot drop.
                    chains.Add((table, parts[0], table == "nat" ? null : direction, parts[1] == "DROP", []));
                }
            }
            else if (line.StartsWith("-A ", StringComparison.Ordinal))
            {
                List<string> words = Words(line);
                int owner = words.Count >= 2 ? chains.FindLastIndex(c => c.Table == table && c.Name == words[1]) : -1;
                if (owner >= 0)
                {
                    HashSet<string> userChains = [.. chains.Where(c => c.Table == table).Select(c => c.Name)];
                    List<FirewallRule> rules = chains[owner].Rules;
                    rules.Add(Compile(table, chains[owner].Name, rules.Count + 1, line, words, userChains));
                }
            }
        }

        return new FirewallRuleset(Tool, [.. chains.Select(c => new FirewallChain(
            c.Table, c.Name, $"table {c.Table}, chain {c.Name}", c.Direction, c.PolicyDrops, c.Rules))]);
    }

    private static FirewallRule Compile(string table, string chain, int number, string line, List<string> words, HashSet<string> userChains)
    {
        var conditions = new List<Func<FirewallPacket, Tri>>();
        RuleVerdict verdict = RuleVerdict.None;
        string? target = null;
        bool negate = false;
        for (int i = 2; i < words.Count; i++)
        {
            string word = words[i];
            if (word == "!")
            {
                negate = true;
                continue;
            }

            string? value = i + 1 < words.Count ? words[i + 1] : null;
            bool not = negate;
            negate = false;

            // Old syntax: "-s ! ADDR".
            if (value == "!" && i + 2 < words.Count)
            {
                not = true;
                i++;
                value = words[i + 1];
            }

            Func<FirewallPacket, Tri>? condition = word switch
            {
                "-p" or "--protocol" => packet => TriLogic.Of(PacketFields.IsProtocol(value!, packet.Protocol)),
                "-d" or "--destination" => packet => AnyAddress(value!, packet.Destination),
                "-s" or "--source" => packet => packet.Source is null ? Tri.Maybe : AnyAddress(value!, packet.Source),
                "-i" or "--in-interface" => packet => PacketFields.Interface(value!, packet, input: true),
                "-o" or "--out-interface" => packet => PacketFields.Interface(value!, packet, input: false),
                "--dport" or "--destination-port" or "--dports" or "--destination-ports" => packet => Ports(value!, packet),
                "--state" or "--ctstate" => _ => TriLogic.Of(value!.Split(',').Contains("NEW", StringComparer.OrdinalIgnoreCase)),
                "--pkt-type" => packet => TriLogic.Of(value!.Equals(packet.Multicast ? "multicast" : "host", StringComparison.OrdinalIgnoreCase)),
                "-m" or "--match" or "--comment" => null,
                _ => _ => Tri.Maybe,
            };

            if (word is "-j" or "--jump" or "-g" or "--goto")
            {
                verdict = value switch
                {
                    "ACCEPT" => RuleVerdict.Accept,
                    "DROP" or "REJECT" => RuleVerdict.Drop,
                    "RETURN" => RuleVerdict.Return,
                    { } name when userChains.Contains(name) => word is "-g" or "--goto" ? RuleVerdict.Goto : RuleVerdict.Jump,
                    _ => RuleVerdict.None,
                };
                target = verdict is RuleVerdict.Jump or RuleVerdict.Goto ? value : null;

                // What follows the target are the target's own options (--reject-with, --log-prefix).
                break;
            }

            if (condition is not null)
            {
                conditions.Add(not ? packet => TriLogic.Not(condition(packet)) : condition);
            }

            // The option's value, if it has one ("--syn" and "-f" have none).
            if (value is not null && !value.StartsWith('-') && value != "!" && word != "--syn" && word != "-f" && word != "--fragment")
            {
                i++;
            }
        }

        Func<FirewallPacket, Tri>[] all = [.. conditions];
        return new FirewallRule(
            $"table {table}, chain {chain}, rule {number}",
            line,
            packet => all.Aggregate(Tri.Yes, (acc, condition) => TriLogic.And(acc, condition(packet))),
            verdict,
            target);
    }

    private static Tri AnyAddress(string list, System.Net.IPAddress address)
    {
        Tri result = Tri.No;
        foreach (string network in list.Split(','))
        {
            switch (PacketFields.ContainsAddress(network, address))
            {
                case true:
                    return Tri.Yes;
                case null:
                    result = Tri.Maybe;
                    break;
                default:
                    break;
            }
        }

        return result;
    }

    private static Tri Ports(string list, FirewallPacket packet)
    {
        if (packet.Protocol != FirewallPacket.Tcp)
        {
            // --dport needs -p tcp/udp; for a VRRP advert the rule's -p already said no.
            return Tri.No;
        }

        if (packet.DestinationPort is not int port)
        {
            return Tri.Maybe;
        }

        foreach (string item in list.Split(','))
        {
            string[] range = item.Split(':', 2);
            int low = int.TryParse(range[0], CultureInfo.InvariantCulture, out int first) ? first : 0;
            int high = range.Length == 2 ? (int.TryParse(range[1], CultureInfo.InvariantCulture, out int last) ? last : 65535) : low;
            if (low <= port && port <= high)
            {
                return Tri.Yes;
            }
        }

        return Tri.No;
    }

    /// <summary>Splits a rule into words, keeping "double quoted" comments whole.</summary>
    private static List<string> Words(string line)
    {
        var words = new List<string>();
        var word = new StringBuilder();
        bool quoted = false;
        bool any = false;
        for (int i = 0; i < line.Length; i++)
        {
            char c = line[i];
            if (c == '\\' && quoted && i + 1 < line.Length)
            {
                word.Append(line[++i]);
            }
            else if (c == '"')
            {
                quoted = !quoted;
                any = true;
            }
            else if (c == ' ' && !quoted)
            {
                if (word.Length > 0 || any)
                {
                    words.Add(word.ToString());
                    word.Clear();
                    any = false;
                }
            }
            else
            {
                word.Append(c);
            }
        }

        if (word.Length > 0 || any)
        {
            words.Add(word.ToString());
        }

        return words;
    }
}
