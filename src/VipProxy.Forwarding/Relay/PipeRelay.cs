using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;

namespace VipProxy.Forwarding.Relay;

/// <summary>
/// The System.IO.Pipelines data path: a Kestrel-style socket↔pipe adapter with one bounded <see cref="Pipe"/> per
/// direction. A filler loop receives from the source socket into the pipe; a drainer loop sends from the pipe to the
/// destination socket.
/// </summary>
/// <remarks>
/// <para>One pipe per direction (not Pipelines.Sockets.Unofficial's two pipes per socket) so each byte is copied once,
/// from the kernel into a pipe segment and from there into the kernel again.</para>
/// <list type="bullet">
/// <item>Idle holds no segment: the filler waits with a zero-byte receive before <see cref="PipeWriter.GetMemory"/>,
/// and the pipe returns a segment as soon as the drainer has consumed it while no write is active.</item>
/// <item>Bounded: the pipe pauses the filler's flush at <see cref="PipeOptions.PauseWriterThreshold"/> until the
/// drainer has sent enough, so a slow reader cannot grow memory.</item>
/// <item>No allocation per read: segments come from <see cref="ArrayPool{T}.Shared"/> (the pipe's default pool),
/// pipe awaitables are reused, and <see cref="PipeScheduler.Inline"/> runs continuations without queueing.</item>
/// <item>The pipe's internal lock is per connection and uncontended (one writer, one reader), not a lock shared by
/// connections.</item>
/// </list>
/// Kept for the places that inspect or write bytes (PROXY headers, protocol-aware checks); for plain forwarding
/// <see cref="SpliceRelay"/> (and <see cref="SocketCopyRelay"/>) measured cheaper.
/// </remarks>
public sealed class PipeRelay : IRelay
{
    private readonly PipeOptions _options;
    private readonly int _segmentSize;

    /// <summary>Creates the relay.</summary>
    /// <param name="segmentSize">Bytes requested per receive.</param>
    public PipeRelay(int segmentSize = SocketCopyRelay.DefaultBufferSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(segmentSize, 1024);
        _segmentSize = segmentSize;

        // Pause after two segments of unsent data; resume below one. This is the whole per-direction bound.
        _options = new PipeOptions(
            pool: MemoryPool<byte>.Shared,
            readerScheduler: PipeScheduler.Inline,
            writerScheduler: PipeScheduler.Inline,
            pauseWriterThreshold: 2L * segmentSize,
            resumeWriterThreshold: segmentSize,
            minimumSegmentSize: segmentSize,
            useSynchronizationContext: false);
    }

    /// <inheritdoc />
    public string Name => "pipe";

    /// <summary>Most bytes one direction can hold: the pause threshold plus one receive that was in flight.</summary>
    public long MaxBufferedBytesPerDirection => _options.PauseWriterThreshold + _segmentSize;

    /// <inheritdoc />
    public Task RunAsync(ProxiedConnection connection)
    {
        ArgumentNullException.ThrowIfNull(connection);
        var upstream = new Pipe(_options);
        var downstream = new Pipe(_options);
        return Task.WhenAll(
            FillAsync(connection, RelayDirection.ClientToServer, upstream.Writer),
            DrainAsync(connection, RelayDirection.ClientToServer, upstream.Reader),
            FillAsync(connection, RelayDirection.ServerToClient, downstream.Writer),
            DrainAsync(connection, RelayDirection.ServerToClient, downstream.Reader));
    }

    private async Task FillAsync(ProxiedConnection connection, RelayDirection direction, PipeWriter writer)
    {
        Socket source = connection.SourceOf(direction);
        ConnectionSide side = ProxiedConnection.SourceSideOf(direction);
        try
        {
            while (true)
            {
                // Readiness first, memory second: an idle direction holds no segment.
                await source.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None).ConfigureAwait(false);
                Memory<byte> memory = writer.GetMemory(_segmentSize);
                int read = await source.ReceiveAsync(memory, SocketFlags.None).ConfigureAwait(false);
                if (read == 0)
                {
                    break;
                }

                connection.Received(direction, read);
                writer.Advance(read);
                FlushResult flushed = await writer.FlushAsync().ConfigureAwait(false);
                if (flushed.IsCompleted)
                {
                    // The drainer stopped (its destination failed); nothing more to do.
                    return;
                }
            }
        }
        catch (SocketException error)
        {
            connection.Fail(side, error.SocketErrorCode);
        }
        catch (ObjectDisposedException)
        {
            connection.Fail(side, SocketError.OperationAborted);
        }
        finally
        {
            // End of stream or failure: the drainer sends what is left, then checks IsAborted before passing FIN on.
            await writer.CompleteAsync().ConfigureAwait(false);
        }
    }

    private static async Task DrainAsync(ProxiedConnection connection, RelayDirection direction, PipeReader reader)
    {
        Socket destination = connection.DestinationOf(direction);
        ConnectionSide side = ProxiedConnection.DestinationSideOf(direction);
        try
        {
            while (true)
            {
                ReadResult result = await reader.ReadAsync().ConfigureAwait(false);
                ReadOnlySequence<byte> buffer = result.Buffer;
                foreach (ReadOnlyMemory<byte> segment in buffer)
                {
                    ReadOnlyMemory<byte> rest = segment;
                    while (!rest.IsEmpty)
                    {
                        int sent = await destination.SendAsync(rest, SocketFlags.None).ConfigureAwait(false);
                        rest = rest[sent..];
                    }

                    connection.Sent(direction, segment.Length);
                }

                reader.AdvanceTo(buffer.End);
                if (result.IsCompleted)
                {
                    if (!connection.IsAborted)
                    {
                        connection.EndOfStream(direction);
                    }

                    return;
                }
            }
        }
        catch (SocketException error)
        {
            connection.Fail(side, error.SocketErrorCode);
        }
        catch (ObjectDisposedException)
        {
            connection.Fail(side, SocketError.OperationAborted);
        }
        finally
        {
            await reader.CompleteAsync().ConfigureAwait(false);
        }
    }
}
