using System.Globalization;

namespace VipProxy.Bench.Results;

/// <summary>Compact, culture-free number formatting for the table: 43.8k, 512, 7.41, 0.312.</summary>
internal static class NumberFormat
{
    public static string Compact(double value)
    {
        var magnitude = Math.Abs(value);
        return magnitude switch
        {
            >= 1_000_000 => (value / 1_000_000).ToString("0.00", CultureInfo.InvariantCulture) + "M",
            >= 10_000 => (value / 1_000).ToString("0.0", CultureInfo.InvariantCulture) + "k",
            >= 100 => value.ToString("0", CultureInfo.InvariantCulture),
            >= 10 => value.ToString("0.0", CultureInfo.InvariantCulture),
            >= 1 => value.ToString("0.00", CultureInfo.InvariantCulture),
            _ => value.ToString("0.000", CultureInfo.InvariantCulture),
        };
    }

    public static string Ratio(double? ratio) =>
        ratio is { } r ? r.ToString("0.00", CultureInfo.InvariantCulture) + "×" : "–";
}
