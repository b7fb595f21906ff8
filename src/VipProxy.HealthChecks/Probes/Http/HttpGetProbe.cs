using System.Net;
using System.Net.Sockets;
using VipProxy.Config.Model;

namespace VipProxy.HealthChecks.Probes.Http;

/// <summary>
/// <c>HTTP_GET</c>: every <c>url</c> must answer with a configured status (default 2xx) and, when a
/// <c>digest</c> is given, a body with that MD5. Each url gets its own connection and its own
/// <c>connect_timeout</c>; the first failing url decides the result.
/// </summary>
public sealed class HttpGetProbe : IHealthProbe
{
    private readonly ProbeTarget _target;
    private readonly IReadOnlyList<HttpUrl> _urls;
    private readonly string _hostHeader;
    private readonly TimeProvider _timeProvider;

    /// <summary>Creates the probe.</summary>
    /// <param name="target">Where to connect.</param>
    /// <param name="urls">The urls to fetch (at least one).</param>
    /// <param name="virtualHost"><c>virtualhost</c>: the Host header; null sends the connect address (and the port
    /// unless it is 80), as keepalived does.</param>
    /// <param name="timeProvider">Clock for the deadline.</param>
    public HttpGetProbe(ProbeTarget target, IReadOnlyList<HttpUrl> urls, string? virtualHost, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(urls);
        ArgumentOutOfRangeException.ThrowIfZero(urls.Count);
        _target = target;
        _urls = urls;
        _hostHeader = virtualHost ?? HostHeaderFor(target.Endpoint);
        _timeProvider = timeProvider ?? TimeProvider.System;
    }

    /// <inheritdoc/>
    public string Description => $"HTTP_GET {_target}";

    /// <inheritdoc/>
    public async Task<ProbeResult> ProbeAsync(CancellationToken cancellationToken)
    {
        ProbeResult? last = null;
        foreach (HttpUrl url in _urls)
        {
            last = await SocketProbeRunner.RunAsync(_target, _timeProvider,
                (socket, step, deadline) => HttpGetExchange.RunAsync(socket, url, _hostHeader, step, deadline),
                cancellationToken).ConfigureAwait(false);
            if (!last.IsUp)
            {
                return last;
            }
        }

        return _urls.Count == 1 ? last! : ProbeResult.Up($"all {_urls.Count} urls passed");
    }

    private static string HostHeaderFor(IPEndPoint endpoint)
    {
        string address = endpoint.AddressFamily == AddressFamily.InterNetworkV6
            ? $"[{endpoint.Address}]"
            : endpoint.Address.ToString();
        return endpoint.Port == 80 ? address : $"{address}:{endpoint.Port}";
    }
}
