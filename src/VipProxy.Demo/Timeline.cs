using System.Diagnostics;
using System.Globalization;

namespace VipProxy.Demo;

/// <summary>The demo's output: one line per event, stamped with the seconds since the demo started.</summary>
public sealed class Timeline(TextWriter output, Stopwatch clock)
{
    public Stopwatch Clock => clock;

    /// <summary><c>[ 12.34 s] text</c>.</summary>
    public void Event(string text) => Event(clock.Elapsed, text);

    /// <summary>An event that happened at <paramref name="at"/> (on this clock), printed now.</summary>
    public void Event(TimeSpan at, string text) =>
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"[{at.TotalSeconds,6:0.00} s] {text}"));

    /// <summary>A detail under the previous event, indented past its time stamp.</summary>
    public void Detail(string text) => output.WriteLine($"           {text}");

    public static string Seconds(TimeSpan span) => span.TotalSeconds.ToString("0.00", CultureInfo.InvariantCulture) + " s";
}

/// <summary>A demo step that did not happen as it should: the message says which and what was seen instead.</summary>
public sealed class DemoStepFailedException : Exception
{
    public DemoStepFailedException()
    {
    }

    public DemoStepFailedException(string message)
        : base(message)
    {
    }

    public DemoStepFailedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
