using System.Net;

namespace VipProxy.Vrrp.Linux;

/// <summary>
/// Drops TCP TIME_WAIT sockets whose local address is a VIP, when this node takes the VIP over.
/// </summary>
/// <remarks>
/// Why: a node that once served a VIP keeps TIME_WAIT sockets for connections it closed first (a relayed server
/// FIN reaches the client before the client's own FIN). If the VIP moves away and comes back within 60 s, a
/// client whose stream lived on the other node in the meantime may use the same ports; its segments then hit
/// this TIME_WAIT socket, which answers with an ACK instead of the reset that would tell the client to give up,
/// and the client hangs until TIME_WAIT ends. The soak test saw 17 such streams in 36,620. Those TIME_WAIT sockets
/// protect connections this node no longer owns, so dropping them when the VIP arrives is safe.
/// </remarks>
public interface ITimeWaitReaper
{
    /// <summary>Destroys every IPv4 TCP TIME_WAIT socket whose local address is one of <paramref name="localAddresses"/>.</summary>
    /// <returns>How many were destroyed.</returns>
    /// <exception cref="System.Net.Sockets.SocketException">The kernel refused (no CONFIG_INET_DIAG_DESTROY, no CAP_NET_ADMIN).</exception>
    int DestroyTimeWait(IReadOnlyCollection<IPAddress> localAddresses);
}
