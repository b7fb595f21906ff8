namespace VipProxy.Forwarding.Relay;

/// <summary>
/// Moves bytes both ways between the two sockets of a <see cref="ProxiedConnection"/> until both directions have
/// ended.
/// </summary>
/// <remarks>
/// Contract, shared by every implementation (socket copy, pipelines, splice(2)):
/// <list type="bullet">
/// <item>End of stream from one side is reported with <see cref="ProxiedConnection.EndOfStream"/> once every byte
/// read before it has been sent on; that half-closes the other side while the opposite direction keeps flowing.</item>
/// <item>A socket error is reported with <see cref="ProxiedConnection.Fail"/>, naming the socket it happened on; that
/// resets both sides. Errors that follow an abort are expected and ignored by the connection.</item>
/// <item>Bytes are reported with <see cref="ProxiedConnection.Received"/> when read and
/// <see cref="ProxiedConnection.Sent"/> when written, so the bytes buffered inside the proxy are observable.</item>
/// <item>Bounded memory: a direction never holds more than a fixed amount of unsent data; an idle direction holds no
/// buffer at all.</item>
/// </list>
/// The returned task completes when both directions have stopped; it does not fault for socket errors.
/// </remarks>
public interface IRelay
{
    /// <summary>Short name for logs and benchmarks.</summary>
    string Name { get; }

    /// <summary>Relays until both directions end. The caller disposes the sockets afterwards.</summary>
    Task RunAsync(ProxiedConnection connection);
}
