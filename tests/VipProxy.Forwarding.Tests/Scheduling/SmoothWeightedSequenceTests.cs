using VipProxy.Forwarding.Scheduling;

namespace VipProxy.Forwarding.Tests.Scheduling;

public class SmoothWeightedSequenceTests
{
    [Theory]
    [InlineData(new[] { 1 }, new[] { 0 })]
    [InlineData(new[] { 4, 2 }, new[] { 0, 1, 0 })]
    [InlineData(new[] { 0, 3 }, new[] { 1 })]
    [InlineData(new[] { 0, 0 }, new int[0])]
    [InlineData(new int[0], new int[0])]
    public void Builds_one_reduced_cycle(int[] weights, int[] expected) =>
        Assert.Equal(expected, SmoothWeightedSequence.Build(weights));

    [Fact]
    public void Spreads_the_heavy_server_turns_through_the_cycle()
    {
        // 5:1:1 — LVS's interleaved wrr gives A A A A A B C: a burst of five new connections all lands on A.
        // Smooth order interleaves within the cycle (runs of two; cycles repeat, so A's last two and first two
        // turns meet at the boundary).
        int[] cycle = SmoothWeightedSequence.Build([5, 1, 1]);
        int longestRun = 1;
        for (int i = 1, run = 1; i < cycle.Length; i++)
        {
            run = cycle[i] == cycle[i - 1] ? run + 1 : 1;
            longestRun = Math.Max(longestRun, run);
        }

        Assert.Equal(2, longestRun);
    }

    [Fact]
    public void Rejects_negative_weights() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => SmoothWeightedSequence.Build([1, -1]));
}
