using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using VipProxy.Forwarding.Relay;

namespace VipProxy.Forwarding.Logging;

/// <summary>How <see cref="BatchedConnectionLog"/> starts each line, matching the daemon's console logger.</summary>
public enum ConnectionLogStyle
{
    /// <summary>The simple console format: <c>HH:mm:ss.fff info: category[1000] message</c>.</summary>
    Console,

    /// <summary>Under systemd (journald): <c>&lt;6&gt;category[1000] message</c>, the level as a syslog prefix.</summary>
    Journal,
}

/// <summary>
/// The daemon's connection log: one line per connection (client, virtual server, real server, bytes each way,
/// duration, close reason and side), formatted on the loop that closed the connection into that loop's reused
/// buffer, with no allocation, and written in batches by one writer thread.
/// </summary>
/// <remarks>
/// <para>Each batch is at most <see cref="BatchBytes"/> (PIPE_BUF) and ends at a line boundary, so one write(2)
/// towards a pipe is atomic: batches never interleave with the console logger's own lines on the same stdout.</para>
/// <para>The loops never wait for the output: a loop hands a full buffer, or every 50 ms what it holds, to the
/// writer's queue and takes an empty one; the writer wakes once per handed batch, not once per connection. When the output is slower than the connections (stdout blocked), at most
/// <see cref="MaxQueuedBatches"/> batches wait; lines beyond that are dropped and counted in <see cref="Dropped"/>
/// rather than stalling the data path.</para>
/// </remarks>
public sealed class BatchedConnectionLog : IConnectionLogSink, IDisposable
{
    /// <summary>Largest batch: PIPE_BUF, the size of an atomic pipe write.</summary>
    public const int BatchBytes = 4096;

    /// <summary>Batches queued for the writer before lines are dropped.</summary>
    public const int MaxQueuedBatches = 1024;

    private const int MaxLine = 512;

    private static readonly byte[][] ReasonNames = [.. Enum.GetNames<CloseReason>().Select(Encoding.ASCII.GetBytes)];
    private static readonly byte[][] SideNames = [.. Enum.GetNames<ConnectionSide>().Select(Encoding.ASCII.GetBytes)];

    private readonly Stream _output;
    private readonly ConnectionLogStyle _style;
    private readonly TimeProvider _timeProvider;
    private readonly LoopBuffer[] _loops;
    private readonly ConcurrentQueue<Batch> _queue = new();
    private readonly ConcurrentBag<byte[]> _free = [];
    // No spinning before blocking (SemaphoreSlim spins with sched_yield: thousands of yields per second measured).
    private readonly ManualResetEventSlim _signal = new(false, spinCount: 0);
    private readonly Thread _writer;
    private int _queued;
    private long _dropped;
    private long _lines;
    private long _writes;
    private volatile bool _stopping;

    /// <summary>Creates the log for <paramref name="loops"/> event loops, writing to <paramref name="output"/>.</summary>
    public BatchedConnectionLog(int loops, Stream output, ConnectionLogStyle style = ConnectionLogStyle.Console, TimeProvider? timeProvider = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(loops, 1);
        ArgumentNullException.ThrowIfNull(output);
        _output = output;
        _style = style;
        _timeProvider = timeProvider ?? TimeProvider.System;
        _loops = new LoopBuffer[loops];
        for (int i = 0; i < loops; i++)
        {
            _loops[i] = new LoopBuffer(new byte[BatchBytes]);
        }

        _writer = new Thread(WriteLoop) { IsBackground = true, Name = "vipproxy-connection-log" };
        _writer.Start();
    }

    /// <summary>Lines dropped because the output could not keep up (or failed).</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>Lines formatted.</summary>
    public long Lines => Interlocked.Read(ref _lines);

    /// <summary>write(2) calls made by the writer (lines / writes = lines per batch).</summary>
    public long Writes => Interlocked.Read(ref _writes);

    /// <inheritdoc />
    public void Write(int loop, in ConnectionRecord record)
    {
        LoopBuffer buffer = _loops[loop];
        Span<byte> line = stackalloc byte[MaxLine];
        int length = Format(line, record);
        Interlocked.Increment(ref _lines);
        if (buffer.Length + length > BatchBytes)
        {
            Hand(buffer);
        }

        line[..length].CopyTo(buffer.Bytes.AsSpan(buffer.Length));
        buffer.Length += length;
    }

    /// <inheritdoc />
    public void Flush(int loop)
    {
        LoopBuffer buffer = _loops[loop];
        if (buffer.Length > 0)
        {
            Hand(buffer);
        }
    }

    /// <summary>Writes what is queued and stops the writer.</summary>
    public void Dispose()
    {
        _stopping = true;
        _signal.Set();
        _writer.Join(TimeSpan.FromSeconds(5));
        _signal.Dispose();
    }

    /// <summary>Formats one line (with its newline) into <paramref name="line"/>; returns its length.</summary>
    internal int Format(Span<byte> line, in ConnectionRecord record)
    {
        var writer = new LineWriter(line);
        if (_style == ConnectionLogStyle.Journal)
        {
            writer.Append("<6>"u8);
        }
        else
        {
            DateTimeOffset now = _timeProvider.GetLocalNow();
            writer.Append2(now.Hour);
            writer.Append(":"u8);
            writer.Append2(now.Minute);
            writer.Append(":"u8);
            writer.Append2(now.Second);
            writer.Append("."u8);
            writer.Append3(now.Millisecond);
            writer.Append(" info: "u8);
        }

        writer.Append("vipproxy.vs."u8);
        writer.Append(record.VirtualServer);
        writer.Append("[1000] "u8);
        writer.Append(record.Client);
        writer.Append(" -> "u8);
        writer.Append(record.VirtualServer);
        writer.Append(" -> "u8);
        writer.Append(record.RealServer);
        writer.Append(": "u8);
        writer.Append(record.BytesFromClient);
        writer.Append(" bytes up, "u8);
        writer.Append(record.BytesFromServer);
        writer.Append(" bytes down, "u8);
        writer.Append(record.DurationMs);
        writer.Append(" ms, "u8);
        writer.Append(ReasonNames[(int)record.Reason]);
        writer.Append(" by "u8);
        writer.Append(SideNames[(int)record.Side]);
        writer.Append("\n"u8);
        return writer.Length;
    }

    private void Hand(LoopBuffer buffer)
    {
        if (Interlocked.Increment(ref _queued) > MaxQueuedBatches)
        {
            Interlocked.Decrement(ref _queued);
            Interlocked.Add(ref _dropped, CountLines(buffer.Bytes.AsSpan(0, buffer.Length)));
            buffer.Length = 0;
            return;
        }

        _queue.Enqueue(new Batch(buffer.Bytes, buffer.Length));
        buffer.Bytes = _free.TryTake(out byte[]? fresh) ? fresh : new byte[BatchBytes];
        buffer.Length = 0;
        _signal.Set();
    }

    private void WriteLoop()
    {
        while (true)
        {
            _signal.Wait();
            _signal.Reset();
            while (_queue.TryDequeue(out Batch batch))
            {
                Interlocked.Decrement(ref _queued);
                try
                {
                    _output.Write(batch.Bytes, 0, batch.Length);
                    _output.Flush();
                    Interlocked.Increment(ref _writes);
                }
                catch (IOException)
                {
                    Interlocked.Add(ref _dropped, CountLines(batch.Bytes.AsSpan(0, batch.Length)));
                }
                catch (ObjectDisposedException)
                {
                    Interlocked.Add(ref _dropped, CountLines(batch.Bytes.AsSpan(0, batch.Length)));
                }

                _free.Add(batch.Bytes);
            }

            if (_stopping && _queue.IsEmpty)
            {
                return;
            }
        }
    }

    private static int CountLines(ReadOnlySpan<byte> bytes) => bytes.Count((byte)'\n');

    private readonly record struct Batch(byte[] Bytes, int Length);

    private sealed class LoopBuffer(byte[] bytes)
    {
        public byte[] Bytes = bytes;
        public int Length;
    }

    /// <summary>Appends UTF-8 text to a span; truncates silently at the end (lines are far shorter).</summary>
    private ref struct LineWriter(Span<byte> target)
    {
        private readonly Span<byte> _target = target;

        public int Length { get; private set; }

        public void Append(ReadOnlySpan<byte> text)
        {
            int count = Math.Min(text.Length, _target.Length - Length - 1);
            text[..count].CopyTo(_target[Length..]);
            Length += count;
        }

        public void Append(long value)
        {
            if (value.TryFormat(_target[Length..^1], out int written, default, System.Globalization.CultureInfo.InvariantCulture))
            {
                Length += written;
            }
        }

        public void Append2(int value)
        {
            Append((byte)('0' + (value / 10)));
            Append((byte)('0' + (value % 10)));
        }

        public void Append3(int value)
        {
            Append((byte)('0' + (value / 100)));
            Append((byte)('0' + (value / 10 % 10)));
            Append((byte)('0' + (value % 10)));
        }

        public void Append(IPEndPoint? endpoint)
        {
            if (endpoint is null)
            {
                Append("(none)"u8);
                return;
            }

            bool v6 = endpoint.AddressFamily == AddressFamily.InterNetworkV6;
            if (v6)
            {
                Append((byte)'[');
            }

            if (endpoint.Address.TryFormat(_target[Length..^1], out int written))
            {
                Length += written;
            }

            if (v6)
            {
                Append((byte)']');
            }

            Append((byte)':');
            Append(endpoint.Port);
        }

        private void Append(byte value)
        {
            if (Length < _target.Length - 1)
            {
                _target[Length++] = value;
            }
        }
    }
}
