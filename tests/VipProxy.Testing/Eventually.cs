using System.Diagnostics;

namespace VipProxy.Testing;

/// <summary>
/// The one polling wait of the test suites: checks a condition in real time until it holds, and fails with what was
/// awaited once the timeout has passed. For work that runs on its own (background loops, other processes, the
/// kernel); code driven by a fake clock advances the clock instead.
/// </summary>
/// <remarks>
/// Each overload is its own loop with a single await per poll and no ConfigureAwait(false), as the per-project
/// copies it replaced were: under xunit a test's continuations are queued on the test's synchronization context,
/// so a nested await would add one more trip through that queue to every wake-up of the poller.
/// </remarks>
public static class Eventually
{
    /// <summary>How often the condition is checked unless a call says otherwise.</summary>
    public static readonly TimeSpan DefaultInterval = TimeSpan.FromMilliseconds(20);

    /// <summary>Polls <paramref name="condition"/> every <paramref name="interval"/> until it holds; returns how
    /// long that took.</summary>
    /// <exception cref="TimeoutException">It did not hold within <paramref name="timeout"/>.</exception>
    public static async Task<TimeSpan> TrueAsync(Func<bool> condition, TimeSpan timeout, string? what = null, TimeSpan? interval = null)
    {
        ArgumentNullException.ThrowIfNull(condition);
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            ThrowIfPassed(clock, timeout, what, null);
            await Task.Delay(interval ?? DefaultInterval);
        }

        return clock.Elapsed;
    }

    /// <summary>Polls the asynchronous <paramref name="condition"/> every <paramref name="interval"/> until it
    /// holds; returns how long that took.</summary>
    /// <exception cref="TimeoutException">It did not hold within <paramref name="timeout"/>.</exception>
    public static async Task<TimeSpan> TrueAsync(Func<Task<bool>> condition, TimeSpan timeout, string? what = null, TimeSpan? interval = null)
    {
        ArgumentNullException.ThrowIfNull(condition);
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            ThrowIfPassed(clock, timeout, what, null);
            await Task.Delay(interval ?? DefaultInterval);
        }

        return clock.Elapsed;
    }

    /// <summary>Reads a value every <paramref name="interval"/> until <paramref name="accept"/> takes it, and returns
    /// that value (a status that shows the awaited state, say).</summary>
    /// <param name="read">Reads the current value.</param>
    /// <param name="accept">True for the value waited for.</param>
    /// <param name="timeout">How long to wait.</param>
    /// <param name="what">What is awaited, for the failure message.</param>
    /// <param name="interval">Pause between reads (<see cref="DefaultInterval"/> when null).</param>
    /// <param name="describe">Describes the last value read, for the failure message.</param>
    /// <exception cref="TimeoutException">No value read within <paramref name="timeout"/> was accepted.</exception>
    public static async Task<T> ValueAsync<T>(
        Func<Task<T>> read, Func<T, bool> accept, TimeSpan timeout, string? what = null, TimeSpan? interval = null,
        Func<T, string>? describe = null)
    {
        ArgumentNullException.ThrowIfNull(read);
        ArgumentNullException.ThrowIfNull(accept);
        var clock = Stopwatch.StartNew();
        T value;
        while (!accept(value = await read()))
        {
            ThrowIfPassed(clock, timeout, what, describe is null ? null : () => describe(value));
            await Task.Delay(interval ?? DefaultInterval);
        }

        return value;
    }

    private static void ThrowIfPassed(Stopwatch clock, TimeSpan timeout, string? what, Func<string>? last)
    {
        if (clock.Elapsed >= timeout)
        {
            string lastValue = last is null ? "" : "; last: " + last();
            throw new TimeoutException($"timed out after {timeout} waiting for {what ?? "the condition"}{lastValue}");
        }
    }
}
