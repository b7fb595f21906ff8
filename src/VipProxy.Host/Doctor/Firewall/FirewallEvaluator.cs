namespace VipProxy.Host.Doctor.Firewall;

/// <summary>
/// Walks a packet through every base chain of its direction, following jumps, the way netfilter does: in each base
/// chain the first matching accept or drop decides, and a drop in any base chain stops the packet. Conditions the
/// doctor cannot decide (a source address, a rate limit, a named set) make the result uncertain instead of guessed.
/// </summary>
internal static class FirewallEvaluator
{
    private const int MaxJumpDepth = 16;

    private enum Outcome
    {
        Accepted,
        Dropped,
        Returned,
    }

    /// <summary>The rules and policies that drop <paramref name="packet"/>: certain ones, then the ones that may.</summary>
    public static IReadOnlyList<FirewallBlock> Blocks(FirewallRuleset ruleset, FirewallPacket packet)
    {
        var blocks = new List<FirewallBlock>();
        foreach (FirewallChain chain in ruleset.Chains.Where(c => c.Direction == packet.Direction))
        {
            bool doubt = false;
            var walk = new Walk(ruleset, packet, blocks);
            (Outcome outcome, FirewallBlock? block) = walk.Run(chain, ref doubt, 0);
            if (outcome == Outcome.Returned && chain.PolicyDrops)
            {
                blocks.Add(new FirewallBlock(ruleset.Tool, chain.Location, "policy drop", !doubt, packet, chain.Table, chain.Name));
            }
            else if (outcome == Outcome.Dropped && block is not null)
            {
                blocks.Add(block);
            }
        }

        return [.. blocks.DistinctBy(b => (b.Location, b.Text)).OrderByDescending(b => b.Certain)];
    }

    private sealed class Walk(FirewallRuleset ruleset, FirewallPacket packet, List<FirewallBlock> maybes)
    {
        public (Outcome, FirewallBlock?) Run(FirewallChain chain, ref bool doubt, int depth)
        {
            foreach (FirewallRule rule in chain.Rules)
            {
                Tri matches = rule.Matches(packet);
                if (matches == Tri.No)
                {
                    continue;
                }

                bool certain = matches == Tri.Yes;
                switch (rule.Verdict)
                {
                    case RuleVerdict.Accept when certain:
                        return (Outcome.Accepted, null);
                    case RuleVerdict.Accept:
                        // It may accept: anything that drops later is no longer certain to see the packet.
                        doubt = true;
                        break;
                    case RuleVerdict.Drop when certain:
                        return (Outcome.Dropped, new FirewallBlock(ruleset.Tool, rule.Location, rule.Text, !doubt, packet, chain.Table, chain.Name));
                    case RuleVerdict.Drop:
                        maybes.Add(new FirewallBlock(ruleset.Tool, rule.Location, rule.Text, false, packet, chain.Table, chain.Name));
                        break;
                    case RuleVerdict.Return when certain:
                        return (Outcome.Returned, null);
                    case RuleVerdict.Return:
                        doubt = true;
                        break;
                    case RuleVerdict.Jump or RuleVerdict.Goto:
                        if (depth >= MaxJumpDepth || rule.Target is null || ruleset.Find(chain.Table, rule.Target) is not { } target)
                        {
                            break;
                        }

                        bool inner = doubt || !certain;
                        (Outcome outcome, FirewallBlock? block) = Run(target, ref inner, depth + 1);
                        if (!certain)
                        {
                            // Only perhaps taken: a drop inside is a "may", an accept inside makes later drops uncertain.
                            if (outcome == Outcome.Dropped && block is not null)
                            {
                                maybes.Add(block with { Certain = false });
                            }

                            doubt |= outcome != Outcome.Returned;
                            break;
                        }

                        doubt = inner;
                        if (outcome != Outcome.Returned || rule.Verdict == RuleVerdict.Goto)
                        {
                            return (outcome, block);
                        }

                        break;
                    default:
                        break;
                }
            }

            return (Outcome.Returned, null);
        }
    }
}
