using System.Globalization;
using System.Net;
using VipProxy.Config.Model;
using VipProxy.Core.ProxyProtocol;

namespace VipProxy.HealthChecks.Probes;

/// <summary>Where and how a network probe connects.</summary>
/// <param name="Endpoint">Address and port probed (<c>connect_ip</c>/<c>connect_port</c>, else the real server's).</param>
/// <param name="BindTo">Source address (<c>bindto</c>); null lets the kernel choose.</param>
/// <param name="Timeout">Deadline of one probe, from the start of the connect to the end of the exchange
/// (<c>connect_timeout</c>).</param>
/// <param name="SendProxy">PROXY protocol header to start the check's connection with (<c>check_send_proxy</c>:
/// the real server's <c>send_proxy</c>/<c>send_proxy_v2</c>), naming the checker's own connection as HAProxy's
/// check-send-proxy does. None by default: a MySQL real server that does not speak PROXY keeps seeing plain checks.</param>
public sealed record ProbeTarget(IPEndPoint Endpoint, IPAddress? BindTo, TimeSpan Timeout, ProxyProtocolVersion SendProxy = ProxyProtocolVersion.None)
{
    /// <summary>Applies a checker's <c>connect_ip</c>, <c>connect_port</c>, <c>bindto</c> and
    /// <c>connect_timeout</c> to its real server.</summary>
    public static ProbeTarget For(CheckSettings settings, IPEndPoint realServer) => For(settings, realServer, ProxyProtocolVersion.None);

    /// <summary>As <see cref="For(CheckSettings, IPEndPoint)"/>, with the PROXY header the checks start with.</summary>
    public static ProbeTarget For(CheckSettings settings, IPEndPoint realServer, ProxyProtocolVersion sendProxy)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(realServer);
        var endpoint = new IPEndPoint(settings.ConnectIp ?? realServer.Address, settings.ConnectPort ?? realServer.Port);
        return new ProbeTarget(endpoint, settings.BindTo, settings.ConnectTimeout, sendProxy);
    }

    /// <summary>The endpoint as <c>addr:port</c> (IPv6 in brackets).</summary>
    public override string ToString() => Endpoint.ToString();

    internal string TimeoutText => Seconds(Timeout);

    internal static string Seconds(TimeSpan time) =>
        time.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture) + " s";
}
