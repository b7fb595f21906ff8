using VipProxy.Host.Control;

namespace VipProxy.Host;

/// <summary>What <c>vipproxy run</c> was asked to do.</summary>
/// <param name="ConfigFile">The keepalived.conf-syntax file (<c>-f</c>).</param>
/// <param name="NodeId">Selects <c>@ID</c> lines (<c>--node-id</c>).</param>
/// <param name="SocketPath">The control socket (<c>--socket</c>).</param>
/// <param name="DrainTimeout">On SIGTERM, how long established connections may finish before they are closed (<c>--drain-timeout</c>).</param>
/// <param name="Handover">On SIGTERM, whether a master gives up its VIPs at once or after its connections drained (<c>--handover</c>).</param>
public sealed record DaemonOptions(string ConfigFile, string? NodeId, string SocketPath, TimeSpan DrainTimeout, HandoverMode Handover = HandoverMode.Immediate)
{
    public static readonly TimeSpan DefaultDrainTimeout = TimeSpan.FromSeconds(10);

    public static DaemonOptions For(string configFile) => new(configFile, null, ControlSocketServer.DefaultPath, DefaultDrainTimeout);
}

/// <summary>
/// When a stopping master hands its VIPs over. The two cannot be had at once on one L2 segment: once the backup
/// announces the VIP by gratuitous ARP, the clients' packets for connections still open on this node reach the
/// backup, whose kernel knows no such connection and answers with a reset.
/// </summary>
public enum HandoverMode
{
    /// <summary>
    /// Send priority 0 at once (RFC 5798 §6.4.3 "Shutdown"), so the backup takes over after Skew_Time;
    /// connections open through this node are lost when the VIP moves, as with keepalived.
    /// </summary>
    Immediate,

    /// <summary>
    /// Keep the VIPs and keep serving new clients until every connection that was open at SIGTERM has ended
    /// (or the drain timeout passed), then send priority 0. Nothing open at SIGTERM is reset; the handover
    /// comes later by the time those connections take.
    /// </summary>
    AfterDrain,
}
