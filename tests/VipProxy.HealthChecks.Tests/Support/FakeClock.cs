using System.Diagnostics;
using Microsoft.Extensions.Time.Testing;

namespace VipProxy.HealthChecks.Tests.Support;

internal static class FakeClock
{
    /// <summary>Advances fake time in steps, letting the monitors' continuations run between steps, until the
    /// condition holds; returns the fake time it took. Fails after <paramref name="limit"/> of fake time.</summary>
    public static async Task<TimeSpan> AdvanceUntilAsync(this FakeTimeProvider clock, Func<bool> condition, TimeSpan step, TimeSpan limit)
    {
        DateTimeOffset start = clock.GetUtcNow();
        var real = Stopwatch.StartNew();
        while (true)
        {
            // Give the loops a moment of real time to react to the previous step.
            for (int i = 0; i < 10 && !condition(); i++)
            {
                await Task.Delay(1);
            }

            if (condition())
            {
                return clock.GetUtcNow() - start;
            }

            Assert.True(clock.GetUtcNow() - start < limit, $"condition not met after {limit} of fake time");
            Assert.True(real.Elapsed < TimeSpan.FromSeconds(20), "condition not met in 20 s of real time");
            clock.Advance(step);
        }
    }
}
