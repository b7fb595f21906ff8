namespace VipProxy.Bench.Results;

/// <summary>
/// The median with min and max of one figure over the rounds. The median, because a 2-core machine shared by
/// client, proxy and server has outliers (a round that lost a core to something else), and min–max shows them.
/// </summary>
internal sealed record Summary(double Median, double Min, double Max, int Count)
{
    public static Summary? Of(IReadOnlyCollection<double> values)
    {
        if (values.Count == 0)
        {
            return null;
        }

        var sorted = values.Order().ToArray();
        var middle = sorted.Length / 2;
        var median = sorted.Length % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
        return new Summary(median, sorted[0], sorted[^1], sorted.Length);
    }
}
