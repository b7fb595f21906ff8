namespace VipProxy.Forwarding.Relay;

/// <summary>The data-path implementations.</summary>
public enum RelayKind
{
    /// <summary><see cref="SocketCopyRelay"/>: zero-byte wait, one pooled buffer per busy direction.</summary>
    SocketCopy,

    /// <summary><see cref="PipeRelay"/>: a Kestrel-style socket↔pipe adapter with one bounded pipe per direction.
    /// For paths that inspect or write bytes (PROXY headers).</summary>
    Pipe,

    /// <summary><see cref="SpliceRelay"/>: small messages copied (recv + send), bulk bursts spliced socket → kernel
    /// pipe → socket, so bulk bytes never enter user space. The default for plain forwarding (<see cref="RelayFactory.DefaultKind"/>): it measured about half the
    /// CPU per GiB of the other two, with the same memory per idle connection (bench/results/relay-microbench.md).</summary>
    Splice,
}

/// <summary>Builds the relay for a <see cref="RelayKind"/>.</summary>
public static class RelayFactory
{
    /// <summary>The relay for plain forwarding: the cheapest measured (bench/results/relay-microbench.md). Paths that
    /// inspect or write bytes use <see cref="RelayKind.Pipe"/>.</summary>
    public const RelayKind DefaultKind = RelayKind.Splice;

    /// <summary>Creates a relay; <paramref name="bufferSize"/> is the read size (socket copy), the pipe segment
    /// size (pipe relay), or the user-space fallback buffer (splice; its kernel pipe is
    /// <see cref="SpliceRelay.DefaultPipeSize"/>).</summary>
    public static IRelay Create(RelayKind kind, int bufferSize = SocketCopyRelay.DefaultBufferSize) => kind switch
    {
        RelayKind.SocketCopy => new SocketCopyRelay(bufferSize),
        RelayKind.Pipe => new PipeRelay(bufferSize),
        RelayKind.Splice => new SpliceRelay(SpliceRelay.DefaultPipeSize, bufferSize),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown relay kind."),
    };
}
