using VipProxy.Host.Control;

namespace VipProxy.Host;

/// <summary>What <c>vipproxy run</c> was asked to do.</summary>
/// <param name="ConfigFile">The keepalived.conf-syntax file (<c>-f</c>).</param>
/// <param name="NodeId">Selects <c>@ID</c> lines (<c>--node-id</c>).</param>
/// <param name="SocketPath">The control socket (<c>--socket</c>).</param>
/// <param name="DrainTimeout">On SIGTERM, how long established connections may finish before they are closed (<c>--drain-timeout</c>).</param>
public sealed record DaemonOptions(string ConfigFile, string? NodeId, string SocketPath, TimeSpan DrainTimeout)
{
    public static readonly TimeSpan DefaultDrainTimeout = TimeSpan.FromSeconds(10);

    public static DaemonOptions For(string configFile) => new(configFile, null, ControlSocketServer.DefaultPath, DefaultDrainTimeout);
}
