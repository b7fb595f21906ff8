using System.Globalization;
using System.Net;
using VipProxy.Lab;

namespace VipProxy.Bench.Infrastructure;

/// <summary>
/// Readiness checks run from inside a host (the harness itself sits in the root namespace, which has no link to
/// the LAN): ss for listeners, bash's /dev/tcp for connections and one HTTP request — one short process each, with
/// no helper to build.
/// </summary>
internal static class NetCheck
{
    /// <summary>True when a TCP connection from <paramref name="from"/> to the endpoint completes within 1 s.</summary>
    public static async Task<bool> AcceptsAsync(LanHost from, IPAddress address, int port)
    {
        var script = string.Create(CultureInfo.InvariantCulture, $"exec 3<>/dev/tcp/{address}/{port}");
        var result = await from.RunAsync("timeout", ["1", "bash", "-c", script], TimeSpan.FromSeconds(5));
        return result.Succeeded;
    }

    /// <summary>
    /// True when some socket in <paramref name="host"/> listens on TCP <paramref name="port"/> (any address: a proxy
    /// may bind the wildcard or one address). Checked with ss inside the host, not by connecting: a test connection
    /// through a proxy would reach the backend, and iperf3 or MariaDB count a client that sends nothing as an error.
    /// </summary>
    public static async Task<bool> ListensAsync(LanHost host, int port)
    {
        var result = await host.RunAsync("ss", ["-Hltn", "sport", "=", string.Create(CultureInfo.InvariantCulture, $":{port}")],
            TimeSpan.FromSeconds(5));
        return result.Succeeded && result.StandardOutput.Trim().Length > 0;
    }

    /// <summary>Polls <see cref="ListensAsync"/>, failing early when <paramref name="process"/> exits.</summary>
    public static Task WaitUntilListeningAsync(LanHost host, int port, TimeSpan timeout, LanProcess process,
        CancellationToken cancellationToken) =>
        PollAsync(() => ListensAsync(host, port), $"{host.Name}:{port}", timeout, process, cancellationToken);

    /// <summary>
    /// Polls until the endpoint accepts. Fails early when <paramref name="process"/> (the server being waited for)
    /// exits, since it will never listen then.
    /// </summary>
    public static Task WaitUntilAcceptsAsync(LanHost from, IPAddress address, int port, TimeSpan timeout,
        LanProcess? process, CancellationToken cancellationToken) =>
        PollAsync(() => AcceptsAsync(from, address, port), $"{address}:{port}", timeout, process, cancellationToken);

    private static async Task PollAsync(Func<Task<bool>> ready, string endpoint, TimeSpan timeout, LanProcess? process,
        CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (process is { HasExited: true })
            {
                throw new BenchFailureException(
                    $"{Path.GetFileName(process.Program)} exited with code {process.ExitCode} before listening on {endpoint}",
                    process.OutputLines);
            }

            if (await ready())
            {
                return;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new BenchFailureException(
                    $"nothing listened on {endpoint} within {timeout.TotalSeconds:0} s",
                    process?.OutputLines ?? []);
            }

            await Task.Delay(100, cancellationToken);
        }
    }

    /// <summary>
    /// One HTTP/1.0 request for the benchmark page: proves that bytes flow both ways through a proxy, which a
    /// listener that accepts but never forwards would otherwise hide until the first workload hangs.
    /// </summary>
    public static async Task<bool> HttpGetSucceedsAsync(LanHost from, IPAddress address, int port, string path)
    {
        var script = string.Create(CultureInfo.InvariantCulture,
            $"exec 3<>/dev/tcp/{address}/{port}; printf 'GET {path} HTTP/1.0\\r\\n\\r\\n' >&3; head -c 12 <&3");
        var result = await from.RunAsync("timeout", ["2", "bash", "-c", script], TimeSpan.FromSeconds(5));
        return result.StandardOutput.StartsWith("HTTP/1.1 200", StringComparison.Ordinal);
    }
}
