namespace VipProxy.HealthChecks.Decisions;

/// <summary>
/// A virtual server's quorum with hysteresis, as keepalived evaluates it: the sum of the weights of the live real
/// servers is compared with <c>quorum</c>, inside a band of ± <c>hysteresis</c>.
/// </summary>
/// <remarks>
/// Quorum is regained when the sum reaches <c>quorum + hysteresis</c>, and lost when it falls below
/// <c>quorum − hysteresis</c> or reaches 0 — keepalived's <c>!weight_sum ||</c> test, which makes a virtual server
/// with no live weight lose quorum even when the band reaches down to 0. For the same reason quorum is never
/// gained with no live weight (with quorum 0 the two rules would otherwise flip the state on every evaluation).
/// Inside the band the state holds.
/// keepalived's defaults: quorum 1, hysteresis 0. The VRRP side consumes the transitions to move the VIP away from
/// a node whose service is down. Not thread-safe: the owner serialises evaluations.
/// </remarks>
public sealed class QuorumEvaluator
{
    /// <summary>Creates the evaluator.</summary>
    /// <param name="quorum">Minimum live weight (at least 0).</param>
    /// <param name="hysteresis">Half-width of the band (at least 0).</param>
    /// <param name="initiallyUp">State before the first evaluation.</param>
    public QuorumEvaluator(long quorum, long hysteresis, bool initiallyUp)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(quorum);
        ArgumentOutOfRangeException.ThrowIfNegative(hysteresis);
        Quorum = quorum;
        Hysteresis = hysteresis;
        IsUp = initiallyUp;
    }

    /// <summary>Minimum live weight.</summary>
    public long Quorum { get; }

    /// <summary>Half-width of the band.</summary>
    public long Hysteresis { get; }

    /// <summary>Current quorum state.</summary>
    public bool IsUp { get; private set; }

    /// <summary>Applies the current sum of the weights of the live real servers.</summary>
    public QuorumTransition Evaluate(long liveWeightSum)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(liveWeightSum);
        if (!IsUp && liveWeightSum > 0 && liveWeightSum >= Quorum + Hysteresis)
        {
            IsUp = true;
            return QuorumTransition.QuorumUp;
        }

        if (IsUp && (liveWeightSum == 0 || liveWeightSum < Quorum - Hysteresis))
        {
            IsUp = false;
            return QuorumTransition.QuorumDown;
        }

        return QuorumTransition.None;
    }
}
