using VipProxy.HealthChecks.Decisions;

namespace VipProxy.HealthChecks.Tests.Decisions;

public class QuorumEvaluatorTests
{
    /// <summary>Transitions: . none, U QuorumUp, D QuorumDown.</summary>
    [Theory]
    // quorum 3, hysteresis 1: lost below 2, regained at 4.
    [InlineData(3, 1, true, new[] { 4, 3, 2, 1, 2, 3, 4, 3, 2 }, "...D..U..")]
    // no hysteresis: plain threshold.
    [InlineData(3, 0, true, new[] { 3, 2, 3, 2 }, ".DUD")]
    [InlineData(3, 0, false, new[] { 2, 3, 5 }, ".U.")]
    // a zero live weight always loses quorum, even when the band reaches 0 (keepalived's !weight_sum).
    [InlineData(1, 1, true, new[] { 1, 0, 1, 2 }, ".D.U")]
    // quorum 0 is never gained with no live weight, so it does not flap.
    [InlineData(0, 0, false, new[] { 0, 0, 1, 0 }, "..UD")]
    public void Live_weight_sequences_give_transitions(long quorum, long hysteresis, bool initiallyUp, int[] sums, string expected)
    {
        var evaluator = new QuorumEvaluator(quorum, hysteresis, initiallyUp);
        string actual = string.Concat(sums.Select(sum => evaluator.Evaluate(sum) switch
        {
            QuorumTransition.QuorumUp => 'U',
            QuorumTransition.QuorumDown => 'D',
            _ => '.',
        }));
        Assert.Equal(expected, actual);
    }

    [Fact]
    public void Rejects_negative_values()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new QuorumEvaluator(-1, 0, true));
        Assert.Throws<ArgumentOutOfRangeException>(() => new QuorumEvaluator(1, -1, true));
        Assert.Throws<ArgumentOutOfRangeException>(() => new QuorumEvaluator(1, 0, true).Evaluate(-1));
    }
}
