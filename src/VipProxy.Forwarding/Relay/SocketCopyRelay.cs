using System.Buffers;
using System.Net.Sockets;

namespace VipProxy.Forwarding.Relay;

/// <summary>
/// The plain data path: per direction, wait for readability with a zero-byte receive, then rent one pooled buffer
/// and alternate non-blocking reads with complete sends until the source would block, then give the buffer back.
/// </summary>
/// <remarks>
/// <para>Why this shape:</para>
/// <list type="bullet">
/// <item>Idle costs nothing: a zero-byte <see cref="Socket.ReceiveAsync(Memory{byte}, SocketFlags, CancellationToken)"/>
/// parks in epoll without a buffer, so an idle connection holds no buffer (HAProxy holds two per busy
/// connection).</item>
/// <item>Bounded memory and backpressure: the next read happens only after the previous chunk was sent completely, so
/// a direction holds at most one buffer; a slow reader stalls the send, which stops our reads, which fills the
/// sender's kernel window.</item>
/// <item>No allocation per read: reads are synchronous non-blocking syscalls into the rented array; sends and the
/// zero-byte waits use the socket's cached awaitable event args; the loop's state machine is allocated once per connection.</item>
/// <item>Fewer syscalls than a read-per-wakeup design: after one readiness wakeup it reads until EAGAIN (.NET's epoll
/// is edge-triggered, so it must drain anyway) instead of going back to a zero-byte receive per chunk.</item>
/// </list>
/// <see cref="SpliceRelay"/> is the same loop with a kernel pipe replacing the buffer.
/// </remarks>
public sealed class SocketCopyRelay : IRelay
{
    /// <summary>Read size. 64 KiB keeps syscalls per GiB low; the buffer is held only while data flows.</summary>
    public const int DefaultBufferSize = 64 * 1024;

    private readonly int _bufferSize;

    /// <summary>Creates the relay.</summary>
    public SocketCopyRelay(int bufferSize = DefaultBufferSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(bufferSize, 1024);
        _bufferSize = bufferSize;
    }

    /// <inheritdoc />
    public string Name => "socket-copy";

    /// <inheritdoc />
    public Task RunAsync(ProxiedConnection connection) => NonBlockingPumps.RunAsync(connection, PumpAsync);

    private async Task PumpAsync(ProxiedConnection connection, RelayDirection direction)
    {
        Socket source = connection.SourceOf(direction);
        Socket destination = connection.DestinationOf(direction);
        ConnectionSide sourceSide = ProxiedConnection.SourceSideOf(direction);
        ConnectionSide destinationSide = ProxiedConnection.DestinationSideOf(direction);
        byte[]? buffer = null;
        try
        {
            while (true)
            {
                // Readiness wait without a buffer: completes when data, FIN or an error is pending.
                await source.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None).ConfigureAwait(false);
                buffer = ArrayPool<byte>.Shared.Rent(_bufferSize);
                while (true)
                {
                    int read = source.Receive(buffer, SocketFlags.None, out SocketError error);
                    if (error == SocketError.WouldBlock)
                    {
                        break;
                    }

                    if (error != SocketError.Success)
                    {
                        connection.Fail(sourceSide, error);
                        return;
                    }

                    if (read == 0)
                    {
                        connection.EndOfStream(direction);
                        return;
                    }

                    connection.Received(direction, read);

                    // Send all of it before reading again: this is the backpressure.
                    try
                    {
                        int offset = 0;
                        while (offset < read)
                        {
                            offset += await destination.SendAsync(buffer.AsMemory(offset, read - offset), SocketFlags.None).ConfigureAwait(false);
                        }
                    }
                    catch (SocketException sendError)
                    {
                        connection.Fail(destinationSide, sendError.SocketErrorCode);
                        return;
                    }
                    catch (ObjectDisposedException)
                    {
                        connection.Fail(destinationSide, SocketError.OperationAborted);
                        return;
                    }

                    connection.Sent(direction, read);
                }

                ArrayPool<byte>.Shared.Return(buffer);
                buffer = null;
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
            if (buffer is not null)
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
    }
}
