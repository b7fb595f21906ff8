using System.Globalization;
using System.Text.RegularExpressions;
using VipProxy.Bench.Infrastructure;

namespace VipProxy.Bench.Workloads;

/// <summary>The figures of one `wrk --latency` run, parsed from its text report.</summary>
internal sealed partial record WrkOutput(double RequestsPerSecond, long Requests, double P50Milliseconds,
    double P99Milliseconds, long ConnectErrors, long ReadErrors, long WriteErrors, long Timeouts, long Non2xx)
{
    public static WrkOutput Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var rate = RequestsPerSecondLine().Match(text);
        var total = RequestsLine().Match(text);
        if (!rate.Success || !total.Success)
        {
            throw new BenchFailureException("wrk printed no result", text.Split('\n'));
        }

        // wrk prints the socket error line only when there were errors.
        var errors = SocketErrorsLine().Match(text);
        long Errors(int group) =>
            errors.Success ? long.Parse(errors.Groups[group].Value, CultureInfo.InvariantCulture) : 0;
        var non2xx = Non2xxLine().Match(text);
        return new WrkOutput(
            double.Parse(rate.Groups[1].Value, CultureInfo.InvariantCulture),
            long.Parse(total.Groups[1].Value, CultureInfo.InvariantCulture),
            Percentile(text, "50"),
            Percentile(text, "99"),
            Errors(1),
            Errors(2),
            Errors(3),
            Errors(4),
            non2xx.Success ? long.Parse(non2xx.Groups[1].Value, CultureInfo.InvariantCulture) : 0);
    }

    /// <summary>A line of the "Latency Distribution" block, e.g. "     99%    2.10ms".</summary>
    private static double Percentile(string text, string percent)
    {
        var match = Regex.Match(text, $@"^\s+{percent}%\s+([0-9.]+)(us|ms|s|m)\s*$", RegexOptions.Multiline);
        if (!match.Success)
        {
            throw new BenchFailureException($"wrk printed no {percent}% latency (was --latency given?)");
        }

        var value = double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
        return match.Groups[2].Value switch
        {
            "us" => value / 1000,
            "ms" => value,
            "s" => value * 1000,
            _ => value * 60_000,
        };
    }

    [GeneratedRegex(@"^Requests/sec:\s+([0-9.]+)", RegexOptions.Multiline)]
    private static partial Regex RequestsPerSecondLine();

    [GeneratedRegex(@"^\s+([0-9]+) requests in", RegexOptions.Multiline)]
    private static partial Regex RequestsLine();

    [GeneratedRegex(@"Socket errors: connect ([0-9]+), read ([0-9]+), write ([0-9]+), timeout ([0-9]+)")]
    private static partial Regex SocketErrorsLine();

    [GeneratedRegex(@"Non-2xx or 3xx responses: ([0-9]+)")]
    private static partial Regex Non2xxLine();
}
