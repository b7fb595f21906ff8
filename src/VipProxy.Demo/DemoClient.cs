using System.Diagnostics;
using System.Globalization;
using System.Net;
using VipProxy.Lab;

namespace VipProxy.Demo;

/// <summary>One query through the VIP: when it ran (on the demo's clock) and which real server answered.</summary>
/// <param name="ServerId">MariaDB's <c>@@server_id</c>: 1 for rs1, 2 for rs2; 0 when the query failed.</param>
public sealed record QueryResult(int Port, TimeSpan Started, TimeSpan Finished, int ServerId, string? Error)
{
    public bool Succeeded => Error is null;
}

/// <summary>
/// The application: the <c>mariadb</c> command-line client run inside the client host, one new connection per
/// query (<c>SELECT @@server_id</c>), as a MyCat client pool opening connections would.
/// </summary>
public sealed class DemoClient(LanHost host, IPAddress vip, Stopwatch clock)
{
    /// <summary>
    /// A lost SYN (the VIP's old owner is gone) is retransmitted only after 1 s, so a query must give up by then to
    /// be replaced by a fresh one that finds the new owner.
    /// </summary>
    private const int ConnectTimeoutSeconds = 1;

    private static readonly TimeSpan ProcessTimeout = TimeSpan.FromSeconds(10);

    public async Task<QueryResult> QueryAsync(int port)
    {
        var started = clock.Elapsed;
        try
        {
            var result = await host.RunAsync(MariaDbServer.ClientProgram,
                [
                    "--no-defaults", "--skip-ssl", "-h", vip.ToString(), "-P", port.ToString(CultureInfo.InvariantCulture),
                    "-u", DemoConfig.AppUser, $"-p{DemoConfig.AppPassword}", $"--connect-timeout={ConnectTimeoutSeconds}",
                    "--batch", "--skip-column-names", "-e", "SELECT @@server_id",
                ], ProcessTimeout).ConfigureAwait(false);
            if (result.Succeeded && int.TryParse(result.StandardOutput.Trim(), CultureInfo.InvariantCulture, out int serverId))
            {
                return new QueryResult(port, started, clock.Elapsed, serverId, null);
            }

            return new QueryResult(port, started, clock.Elapsed, 0, FirstLine(result.ToString()));
        }
        catch (TimeoutException e)
        {
            return new QueryResult(port, started, clock.Elapsed, 0, e.Message);
        }
    }

    /// <summary>Starts a <see cref="QueryStream"/>: a new query every <paramref name="interval"/> on <paramref name="port"/>.</summary>
    public QueryStream StartStream(int port, TimeSpan interval) => new(this, port, interval, clock);

    private static string FirstLine(string text)
    {
        var line = text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault();
        return string.IsNullOrEmpty(line) ? "no answer" : line;
    }
}
