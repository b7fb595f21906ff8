using VipProxy.HealthChecks.Decisions;

namespace VipProxy.HealthChecks.Tests.Decisions;

public class HealthCounterTests
{
    /// <summary>
    /// Results: S = probe passed, F = probe failed. Transitions: . = none, U = went up, D = went down.
    /// </summary>
    [Theory]
    // keepalived retry 1 (rise 1, fall 2): down after 2 consecutive failures, up after 1 success.
    [InlineData(1, 2, true, "FF", ".D")]
    [InlineData(1, 2, true, "FSFSF", ".....")]
    [InlineData(1, 2, true, "FSFF", "...D")]
    [InlineData(1, 2, true, "FFFS", ".D.U")]
    // keepalived retry 0: the first failure marks down.
    [InlineData(1, 1, true, "FSF", "DUD")]
    // HAProxy-style rise 2 fall 3.
    [InlineData(2, 3, true, "FFF", "..D")]
    [InlineData(2, 3, true, "FFFSS", "..D.U")]
    [InlineData(2, 3, true, "FFFSFSS", "..D...U")] // a failure while rising restarts the climb
    [InlineData(2, 3, true, "FFSFFF", ".....D")] // a success restores the full margin
    [InlineData(3, 1, false, "SSS", "..U")]
    [InlineData(3, 1, false, "SSFSSS", ".....U")]
    [InlineData(3, 1, false, "SSSF", "..UD")]
    // Saturation at both ends.
    [InlineData(2, 2, true, "SSSSFF", ".....D")]
    [InlineData(2, 2, false, "FFFFSS", ".....U")]
    public void Sequences_of_results_give_transitions(int rise, int fall, bool initialUp, string results, string expected)
    {
        var counter = new HealthCounter(rise, fall, initialUp);
        Assert.Equal(initialUp, counter.IsUp);

        var actual = new char[results.Length];
        for (int i = 0; i < results.Length; i++)
        {
            HealthTransition transition = counter.Record(results[i] == 'S');
            actual[i] = transition switch
            {
                HealthTransition.WentUp => 'U',
                HealthTransition.WentDown => 'D',
                _ => '.',
            };
            Assert.InRange(counter.Health, 0, rise + fall - 1);
            Assert.Equal(counter.Health >= rise, counter.IsUp);
        }

        Assert.Equal(expected, new string(actual));
    }

    [Fact]
    public void Starts_at_the_ends_of_the_range()
    {
        Assert.Equal(4, new HealthCounter(2, 3, initialUp: true).Health);
        Assert.Equal(0, new HealthCounter(2, 3, initialUp: false).Health);
        Assert.True(new HealthCounter(2, 3, initialUp: true).IsSettled);
    }

    [Theory]
    [InlineData(0, 1)]
    [InlineData(1, 0)]
    public void Rejects_rise_or_fall_below_one(int rise, int fall) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new HealthCounter(rise, fall, true));
}
