using System.Net;
using VipProxy.Config.Model;
using VipProxy.Core.ProxyProtocol;
using VipProxy.HealthChecks.Probes.Http;
using VipProxy.HealthChecks.Probes.MySql;
using VipProxy.HealthChecks.Scripts;

namespace VipProxy.HealthChecks.Probes;

/// <summary>Creates the probe for each configured checker.</summary>
public sealed class HealthProbeFactory
{
    private readonly ScriptRunner _scripts;
    private readonly TimeProvider _timeProvider;

    /// <summary>Creates the factory.</summary>
    /// <param name="scripts">Runs MISC_CHECK scripts.</param>
    /// <param name="timeProvider">Clock of the network probes' deadlines.</param>
    public HealthProbeFactory(ScriptRunner scripts, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(scripts);
        _scripts = scripts;
        _timeProvider = timeProvider ?? TimeProvider.System;
    }

    /// <summary>The probe of <paramref name="check"/> against the real server at <paramref name="realServer"/>.</summary>
    public IHealthProbe Create(HealthCheck check, IPEndPoint realServer) => Create(check, realServer, ProxyProtocolVersion.None);

    /// <summary>The probe of <paramref name="check"/>; its connection starts with a PROXY header of
    /// <paramref name="sendProxy"/> (<c>check_send_proxy</c>) unless that is <see cref="ProxyProtocolVersion.None"/>.
    /// MISC_CHECK scripts open their own connections and are unaffected.</summary>
    public IHealthProbe Create(HealthCheck check, IPEndPoint realServer, ProxyProtocolVersion sendProxy)
    {
        ArgumentNullException.ThrowIfNull(check);
        ArgumentNullException.ThrowIfNull(realServer);
        ProbeTarget target = ProbeTarget.For(check.Settings, realServer, sendProxy);
        return check switch
        {
            TcpCheck => new TcpProbe(target, _timeProvider),
            HttpGetCheck http => new HttpGetProbe(target, http.Urls, http.VirtualHost, _timeProvider),
            MiscCheck misc => new MiscProbe(misc, _scripts),
            MySqlCheck mysql => new MySqlProbe(target, mysql, _timeProvider),
            _ => throw new ArgumentException($"no probe for {check.Keyword}", nameof(check)),
        };
    }
}
