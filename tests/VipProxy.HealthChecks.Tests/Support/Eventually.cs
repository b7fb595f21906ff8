using System.Diagnostics;

namespace VipProxy.HealthChecks.Tests.Support;

internal static class Eventually
{
    /// <summary>Polls until the condition holds; fails with <paramref name="what"/> after the timeout.</summary>
    public static async Task TrueAsync(Func<bool> condition, TimeSpan timeout, string what)
    {
        var watch = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(watch.Elapsed < timeout, $"timed out after {timeout}: {what}");
            await Task.Delay(20);
        }
    }
}
