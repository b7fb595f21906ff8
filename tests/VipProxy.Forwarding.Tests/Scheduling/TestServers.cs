using System.Collections.Immutable;
using System.Net;
using VipProxy.Forwarding.Scheduling;

namespace VipProxy.Forwarding.Tests.Scheduling;

/// <summary>Builds snapshots for tests: server i is named by letter ("A", "B", …) at 10.0.0.(i+1):3306.</summary>
internal static class TestServers
{
    public static ImmutableArray<RealServerSnapshot> WithWeights(params int[] weights) =>
        [.. weights.Select((weight, i) => Server(i, weight))];

    public static RealServerSnapshot Server(int index, int weight, long maxConnections = 0) =>
        new(Name(index), new IPEndPoint(IPAddress.Parse($"10.0.0.{index + 1}"), 3306), weight, maxConnections);

    public static string Name(int index) => ((char)('A' + index)).ToString();

    public static IPAddress Client(int n) => new(new byte[] { 192, 168, (byte)(n >> 8), (byte)n });

    /// <summary>Picks <paramref name="count"/> times and returns the names joined by spaces ("-" for none).</summary>
    public static string PickSequence(IScheduler scheduler, int count) =>
        string.Join(' ', Enumerable.Range(0, count).Select(_ => scheduler.Pick(IPAddress.Loopback)?.Name ?? "-"));

    /// <summary>Picks <paramref name="count"/> times and counts picks per server name.</summary>
    public static Dictionary<string, int> Tally(IScheduler scheduler, int count, Func<int, IPAddress>? client = null)
    {
        var tally = scheduler.Servers.ToDictionary(s => s.Name, _ => 0);
        for (int i = 0; i < count; i++)
        {
            RealServerSnapshot? picked = scheduler.Pick(client?.Invoke(i) ?? IPAddress.Loopback);
            Assert.NotNull(picked);
            tally[picked.Name]++;
        }

        return tally;
    }

    public static void Open(RealServerSnapshot server, int active, int inactive = 0)
    {
        for (int i = 0; i < active + inactive; i++)
        {
            server.Counters.ConnectionOpened();
        }

        for (int i = 0; i < inactive; i++)
        {
            server.Counters.ConnectionBecameInactive();
        }
    }
}
