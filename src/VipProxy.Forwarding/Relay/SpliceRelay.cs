using System.Buffers;
using System.Net.Sockets;
using Tmds.Linux;

namespace VipProxy.Forwarding.Relay;

/// <summary>
/// The default data path, a hybrid: per direction, wait for readability with a zero-byte receive; small messages
/// (a read that does not fill <see cref="DefaultCopyThreshold"/>) are copied with one recv and one send through a
/// pooled buffer held only for that; bulk transfers (a read that fills it) switch the direction to splice(2) socket →
/// kernel pipe → socket, so bulk payload never enters user space, until a burst is small again.
/// </summary>
/// <remarks>
/// <para>Why hybrid (bench/results/perf-experiments.md): for a small request/response message the splice path costs
/// four syscalls per direction (zero-byte probe, splice in, splice out, splice to EAGAIN) plus a pipe rent/return;
/// recv + send through a buffer costs three (zero-byte probe, recv, send). A short read or short splice goes straight
/// back to the zero-byte receive, whose recv(0) is itself the drain probe (it succeeds at once while bytes or a FIN
/// are pending; on EAGAIN .NET parks it in its edge-triggered epoll without losing the edge), so no extra EAGAIN read
/// is spent. Bulk keeps splice's CPU per GiB.</para>
/// <para>Splice mode (the same loop as <see cref="SocketCopyRelay"/>, with a kernel pipe in place of the buffer):</para>
/// <list type="bullet">
/// <item>Readiness: a zero-byte <see cref="Socket.ReceiveAsync(Memory{byte}, SocketFlags, CancellationToken)"/>
/// parks in .NET's epoll without a buffer. The sockets are non-blocking (set before relaying), so a splice from an
/// empty socket returns EAGAIN rather than blocking a thread. .NET's epoll is edge-triggered, so each wakeup splices
/// until EAGAIN, or until a short splice hands the drain check to the next zero-byte receive.</item>
/// <item>Transfer: splice(socket → pipe, up to the pipe's capacity), then splice(pipe → socket) until the pipe is
/// empty, and only then read again: that is the backpressure, and it bounds a direction to one pipe of unsent
/// data. Flags are SPLICE_F_MOVE|SPLICE_F_NONBLOCK, never SPLICE_F_MORE towards a socket (it corks small writes for
/// ~200 ms, fatal for request/response protocols such as MySQL).</item>
/// <item>Writability: .NET exposes no "wait until writable" (a zero-byte send completes at once). When the
/// destination would block (pipe → socket returns EAGAIN), up to one fallback buffer of the pipe's bytes is read
/// into a pooled array and sent with <see cref="Socket.SendAsync(ReadOnlyMemory{byte}, SocketFlags, CancellationToken)"/>,
/// which waits for writability through .NET's own epoll; splicing resumes once that send completed. Each fallback
/// moves real bytes, so it cannot spin, and it is taken only when the destination is slower than the source (then
/// the copy is not the bottleneck). A private epoll for write readiness would avoid that copy but needs its own
/// thread and must never miss a wakeup when the socket is closed under it; not worth it while measurements show the
/// fallback share is small.</item>
/// <item>Idle costs nothing extra: pipes come from <see cref="KernelPipePool"/> when data arrives and go back, empty,
/// when the source would block; an idle connection holds no pipe, no buffer, no extra descriptor.</item>
/// <item>Descriptor safety: each splice holds a reference on the socket's <see cref="SafeSocketHandle"/>, so an
/// abort that disposes the socket concurrently cannot close the descriptor (and let it be reused by another
/// connection) during the call.</item>
/// <item>Out of descriptors (pipe2 fails): that burst is copied through a pooled buffer, exactly like
/// <see cref="SocketCopyRelay"/>.</item>
/// </list>
/// <para>Half-close, reset and close-reason semantics are those of <see cref="IRelay"/>: splice returning 0 is the
/// source's FIN (the pipe is empty then, so everything before it was sent); an errno is mapped to the same
/// <see cref="SocketError"/> a socket call would have reported.</para>
/// </remarks>
public sealed class SpliceRelay : IRelay
{
    /// <summary>Pipe size requested with F_SETPIPE_SZ. Larger pipes mean fewer splices per GiB; the pipe holds pages
    /// only while data is in flight. 1 MiB is the unprivileged maximum (fs.pipe-max-size).</summary>
    public const int DefaultPipeSize = 256 * 1024;

    /// <summary>Default <c>copyThreshold</c>: reads up to 16 KiB are copied (request/response traffic), larger
    /// bursts are spliced.</summary>
    public const int DefaultCopyThreshold = 16 * 1024;

    private const uint SpliceFlags = 1 /* SPLICE_F_MOVE */ | 2 /* SPLICE_F_NONBLOCK */;

    private readonly KernelPipePool _pipes;
    private readonly int _fallbackBufferSize;
    private readonly int _copyThreshold;
    private long _fallbackBytes;

    /// <summary>Creates the relay.</summary>
    /// <param name="pipeSize">Kernel pipe size per busy direction (rounded up by the kernel to a power-of-two number
    /// of pages).</param>
    /// <param name="fallbackBufferSize">Pooled buffer for the bytes moved through user space when the destination
    /// would block, or when no pipe can be created.</param>
    /// <param name="copyThreshold">Reads up to this size are copied through a pooled buffer instead of spliced
    /// (small request/response messages); a read that fills it switches the direction to splice until a burst is
    /// small again. 0 splices everything.</param>
    public SpliceRelay(int pipeSize = DefaultPipeSize, int fallbackBufferSize = SocketCopyRelay.DefaultBufferSize, int copyThreshold = DefaultCopyThreshold)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(pipeSize, 4096);
        ArgumentOutOfRangeException.ThrowIfLessThan(fallbackBufferSize, 1024);
        ArgumentOutOfRangeException.ThrowIfNegative(copyThreshold);
        PipeSize = pipeSize;
        _fallbackBufferSize = fallbackBufferSize;
        _copyThreshold = copyThreshold;
        _pipes = KernelPipePool.ForSize(pipeSize);
    }

    /// <inheritdoc />
    public string Name => "splice";

    /// <summary>The requested pipe size.</summary>
    public int PipeSize { get; }

    /// <summary>Bytes this relay moved through user space (writability waits and pipe-less bursts) rather than by
    /// splice; for benchmarks.</summary>
    public long FallbackBytes => Interlocked.Read(ref _fallbackBytes);

    /// <inheritdoc />
    public Task RunAsync(ProxiedConnection connection) => NonBlockingPumps.RunAsync(connection, PumpAsync);

    private async Task PumpAsync(ProxiedConnection connection, RelayDirection direction)
    {
        Socket source = connection.SourceOf(direction);
        Socket destination = connection.DestinationOf(direction);
        SafeSocketHandle sourceHandle = source.SafeHandle;
        SafeSocketHandle destinationHandle = destination.SafeHandle;
        ConnectionSide sourceSide = ProxiedConnection.SourceSideOf(direction);
        ConnectionSide destinationSide = ProxiedConnection.DestinationSideOf(direction);
        KernelPipe pipe = default;
        bool hasPipe = false;
        int pending = 0;

        // Small messages (request/response) are copied: recv + send is two syscalls, a pipe round trip is three
        // (splice in, splice out, and the pipe rented and returned). A read that fills the small buffer means a bulk
        // transfer: from then on the direction splices, until a wakeup's burst is small again.
        int copyLimit = _copyThreshold;
        bool bulk = copyLimit == 0;
        try
        {
            while (true)
            {
                // Readiness wait without a buffer or a pipe: completes when data, FIN or an error is pending. It is
                // also the drain probe: its recv(0) reports EAGAIN (and then parks in .NET's epoll, which never
                // misses an edge for an operation it queued) or succeeds at once when bytes are still pending, so a
                // short read does not need its own EAGAIN read before waiting.
                await source.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None).ConfigureAwait(false);
                if (!bulk)
                {
                    int copied = await CopyOnceAsync(connection, direction, copyLimit).ConfigureAwait(false);
                    if (copied < 0)
                    {
                        return;
                    }

                    if (copied < copyLimit)
                    {
                        continue; // a short read: most likely drained; the zero-byte wait probes
                    }

                    bulk = true; // a full read: more is pending; splice the rest of this burst
                }

                if (!_pipes.TryRent(out pipe))
                {
                    if (!await CopyBurstAsync(connection, direction).ConfigureAwait(false))
                    {
                        return;
                    }

                    continue;
                }

                hasPipe = true;
                long burst = 0;
                while (true)
                {
                    long read = Splice(sourceHandle, toSocket: false, pipe.WriteFd, pipe.Capacity, out int errno);
                    if (read < 0)
                    {
                        if (errno == LibC.EINTR)
                        {
                            continue;
                        }

                        if (errno == LibC.EAGAIN)
                        {
                            break; // drained (the pipe is empty here, so EAGAIN is about the socket)
                        }

                        connection.Fail(sourceSide, ToSocketError(errno));
                        return;
                    }

                    if (read == 0)
                    {
                        connection.EndOfStream(direction);
                        return;
                    }

                    connection.Received(direction, (int)read);
                    burst += read;
                    pending = (int)read;
                    while (pending > 0)
                    {
                        long written = Splice(destinationHandle, toSocket: true, pipe.ReadFd, pending, out errno);
                        if (written > 0)
                        {
                            pending -= (int)written;
                            connection.Sent(direction, (int)written);
                        }
                        else if (written < 0 && errno == LibC.EINTR)
                        {
                            continue;
                        }
                        else if (written < 0 && errno == LibC.EAGAIN)
                        {
                            // The destination is full: move a chunk through user space with a send that waits.
                            int moved = await SendFromPipeAsync(connection, direction, pipe, pending).ConfigureAwait(false);
                            if (moved < 0)
                            {
                                return;
                            }

                            pending -= moved;
                        }
                        else
                        {
                            connection.Fail(destinationSide, written == 0 ? SocketError.Shutdown : ToSocketError(errno));
                            return;
                        }
                    }

                    if (copyLimit > 0 && read < pipe.Capacity / 2)
                    {
                        break; // a short splice: most likely drained; the zero-byte wait probes
                    }
                }

                // Pipe empty: it goes back, so an idle direction holds no descriptors.
                hasPipe = false;
                _pipes.Return(pipe);
                if (copyLimit > 0 && burst < copyLimit)
                {
                    bulk = false; // the transfer became small messages again
                }
            }
        }
        catch (SocketException error)
        {
            // Only the zero-byte wait throws here (sends are caught where they happen).
            connection.Fail(sourceSide, error.SocketErrorCode);
        }
        catch (ObjectDisposedException)
        {
            connection.Fail(sourceSide, SocketError.OperationAborted);
        }
        finally
        {
            if (hasPipe)
            {
                if (pending == 0)
                {
                    _pipes.Return(pipe);
                }
                else
                {
                    pipe.Close(); // still holds bytes that will never be sent
                }
            }
        }
    }

    /// <summary>
    /// One plain read of at most <paramref name="limit"/> bytes into a pooled buffer, sent on before returning (the
    /// buffer is held only for that). Returns the bytes moved (0 when the wakeup was spurious), or -1 when the
    /// direction ended (FIN passed on or failure recorded).
    /// </summary>
    private static async ValueTask<int> CopyOnceAsync(ProxiedConnection connection, RelayDirection direction, int limit)
    {
        Socket source = connection.SourceOf(direction);
        byte[] buffer = ArrayPool<byte>.Shared.Rent(limit);
        try
        {
            int read = source.Receive(buffer.AsSpan(0, limit), SocketFlags.None, out SocketError error);
            if (error == SocketError.WouldBlock)
            {
                return 0;
            }

            if (error != SocketError.Success)
            {
                connection.Fail(ProxiedConnection.SourceSideOf(direction), error);
                return -1;
            }

            if (read == 0)
            {
                connection.EndOfStream(direction);
                return -1;
            }

            connection.Received(direction, read);
            return await SendAllAsync(connection, direction, buffer, read).ConfigureAwait(false) ? read : -1;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// Reads up to one fallback buffer from the pipe and sends it with a send that waits for writability. Returns the
    /// bytes moved, or -1 after recording a failure.
    /// </summary>
    private async Task<int> SendFromPipeAsync(ProxiedConnection connection, RelayDirection direction, KernelPipe pipe, int pending)
    {
        byte[] buffer = ArrayPool<byte>.Shared.Rent(Math.Min(pending, _fallbackBufferSize));
        try
        {
            int count = ReadPipe(pipe.ReadFd, buffer, Math.Min(pending, buffer.Length));
            if (count <= 0)
            {
                // Cannot happen (the pipe holds `pending` bytes and only this loop reads it); fail rather than spin.
                connection.Fail(ProxiedConnection.DestinationSideOf(direction), SocketError.SocketError);
                return -1;
            }

            if (!await SendAllAsync(connection, direction, buffer, count).ConfigureAwait(false))
            {
                return -1;
            }

            Interlocked.Add(ref _fallbackBytes, count);
            return count;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>No pipe could be made: copy this burst through a pooled buffer, as <see cref="SocketCopyRelay"/>
    /// does. Returns false when the direction ended (FIN or failure recorded).</summary>
    private async Task<bool> CopyBurstAsync(ProxiedConnection connection, RelayDirection direction)
    {
        Socket source = connection.SourceOf(direction);
        byte[] buffer = ArrayPool<byte>.Shared.Rent(_fallbackBufferSize);
        try
        {
            while (true)
            {
                int read = source.Receive(buffer, SocketFlags.None, out SocketError error);
                if (error == SocketError.WouldBlock)
                {
                    return true;
                }

                if (error != SocketError.Success)
                {
                    connection.Fail(ProxiedConnection.SourceSideOf(direction), error);
                    return false;
                }

                if (read == 0)
                {
                    connection.EndOfStream(direction);
                    return false;
                }

                connection.Received(direction, read);
                if (!await SendAllAsync(connection, direction, buffer, read).ConfigureAwait(false))
                {
                    return false;
                }

                Interlocked.Add(ref _fallbackBytes, read);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static async Task<bool> SendAllAsync(ProxiedConnection connection, RelayDirection direction, byte[] buffer, int count)
    {
        Socket destination = connection.DestinationOf(direction);
        try
        {
            int offset = 0;
            while (offset < count)
            {
                offset += await destination.SendAsync(buffer.AsMemory(offset, count - offset), SocketFlags.None).ConfigureAwait(false);
            }
        }
        catch (SocketException sendError)
        {
            connection.Fail(ProxiedConnection.DestinationSideOf(direction), sendError.SocketErrorCode);
            return false;
        }
        catch (ObjectDisposedException)
        {
            connection.Fail(ProxiedConnection.DestinationSideOf(direction), SocketError.OperationAborted);
            return false;
        }

        connection.Sent(direction, count);
        return true;
    }

    /// <summary>splice(2) between a socket and a pipe end, holding a reference on the socket's handle for the call so
    /// a concurrent dispose cannot close (and recycle) the descriptor under it. A disposed socket reports EBADF.</summary>
    private static unsafe long Splice(SafeSocketHandle socket, bool toSocket, int pipeFd, int length, out int errno)
    {
        bool added = false;
        try
        {
            socket.DangerousAddRef(ref added);
            int fd = (int)socket.DangerousGetHandle();
            long result = toSocket
                ? LibC.splice(pipeFd, null, fd, null, (size_t)length, SpliceFlags)
                : LibC.splice(fd, null, pipeFd, null, (size_t)length, SpliceFlags);
            errno = result < 0 ? LibC.errno : 0;
            return result;
        }
        catch (ObjectDisposedException)
        {
            errno = LibC.EBADF;
            return -1;
        }
        finally
        {
            if (added)
            {
                socket.DangerousRelease();
            }
        }
    }

    private static unsafe int ReadPipe(int fd, byte[] buffer, int count)
    {
        fixed (byte* data = buffer)
        {
            while (true)
            {
                long read = LibC.read(fd, data, (size_t)count);
                if (read >= 0 || LibC.errno != LibC.EINTR)
                {
                    return (int)read;
                }
            }
        }
    }

    /// <summary>The <see cref="SocketError"/> a socket call would have reported for <paramref name="errno"/>.</summary>
    internal static SocketError ToSocketError(int errno) => errno switch
    {
        _ when errno == LibC.ECONNRESET => SocketError.ConnectionReset,
        _ when errno == LibC.EPIPE => SocketError.Shutdown,
        _ when errno == LibC.ECONNABORTED => SocketError.ConnectionAborted,
        _ when errno == LibC.ETIMEDOUT => SocketError.TimedOut,
        _ when errno == LibC.EBADF => SocketError.OperationAborted,
        _ when errno == LibC.ENOTCONN => SocketError.NotConnected,
        _ when errno == LibC.EHOSTUNREACH => SocketError.HostUnreachable,
        _ when errno == LibC.ENETUNREACH => SocketError.NetworkUnreachable,
        _ when errno == LibC.ENETDOWN => SocketError.NetworkDown,
        _ when errno == LibC.ENOMEM || errno == LibC.ENOBUFS => SocketError.NoBufferSpaceAvailable,
        _ => SocketError.SocketError,
    };
}
