using System.Diagnostics;

namespace VipProxy.Bench.Infrastructure;

/// <summary>
/// CLOCK_MONOTONIC in nanoseconds. Stopwatch reads it on Linux, and it is one clock for every process on the
/// machine (no time namespaces here), so a timestamp printed by a helper inside a network namespace compares
/// directly with one taken by the harness.
/// </summary>
internal static class MonotonicClock
{
    public static long NowNanoseconds() =>
        (long)(Stopwatch.GetTimestamp() * (1_000_000_000.0 / Stopwatch.Frequency));
}
