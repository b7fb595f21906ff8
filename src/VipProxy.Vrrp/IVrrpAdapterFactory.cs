using VipProxy.Vrrp.Linux;
using VipProxy.Vrrp.Runtime;

namespace VipProxy.Vrrp;

/// <summary>Opens the kernel adapters <see cref="VrrpService"/> works through; tests substitute fakes.</summary>
public interface IVrrpAdapterFactory
{
    /// <summary>The routing netlink socket (addresses, links).</summary>
    INetlinkRoute OpenNetlink();

    /// <summary>The VRRP socket for one interface.</summary>
    IVrrpSocket OpenSocket(VrrpSocketOptions options);

    /// <summary>The gratuitous ARP sender for one interface.</summary>
    IGratuitousArpSender OpenArpSender(int interfaceIndex);

    /// <summary>The sock_diag socket that drops stale TIME_WAIT sockets on the VIPs when this node takes them.</summary>
    ITimeWaitReaper OpenTimeWaitReaper();

    /// <summary>Runs vrrp_scripts and notify scripts.</summary>
    IScriptRunner ScriptRunner { get; }
}

/// <summary>The real adapters, opened in the calling thread's network namespace.</summary>
public sealed class LinuxVrrpAdapters(IScriptRunner scriptRunner) : IVrrpAdapterFactory
{
    /// <inheritdoc/>
    public IScriptRunner ScriptRunner { get; } = scriptRunner;

    /// <inheritdoc/>
    public INetlinkRoute OpenNetlink() => NetlinkRoute.Open();

    /// <inheritdoc/>
    public IVrrpSocket OpenSocket(VrrpSocketOptions options) => RawVrrpSocket.Open(options);

    /// <inheritdoc/>
    public IGratuitousArpSender OpenArpSender(int interfaceIndex) => PacketArpSender.Open(interfaceIndex);

    /// <inheritdoc/>
    public ITimeWaitReaper OpenTimeWaitReaper() => SocketDiag.Open();
}
