using System.Net;
using System.Text;
using Microsoft.Extensions.Time.Testing;
using VipProxy.Config.Model;
using VipProxy.Forwarding.Logging;
using VipProxy.Forwarding.Relay;
using VipProxy.Forwarding.Runtime;
using VipProxy.Forwarding.Tests.Support;

namespace VipProxy.Forwarding.Tests.Logging;

/// <summary>The daemon's connection log: the line's content, batches at line boundaries, and the loops never waiting.</summary>
public class BatchedConnectionLogTests
{
    private static readonly ConnectionRecord Sample = new(
        7, new IPEndPoint(IPAddress.Parse("198.18.0.9"), 40000), new IPEndPoint(IPAddress.Parse("198.18.0.200"), 8066),
        new IPEndPoint(IPAddress.Parse("2001:db8::2"), 3306), 1234, 56789, 250, CloseReason.RealServerReset);

    [Fact]
    public void A_line_names_client_virtual_server_real_server_bytes_duration_reason_and_side()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 12, 2, 13, 4, 5, 67, TimeSpan.Zero));
        clock.SetLocalTimeZone(TimeZoneInfo.Utc);
        using var log = new BatchedConnectionLog(1, Stream.Null, ConnectionLogStyle.Console, clock);
        Assert.Equal(
            "13:04:05.067 info: vipproxy.vs.198.18.0.200:8066[1000] 198.18.0.9:40000 -> 198.18.0.200:8066 -> [2001:db8::2]:3306: " +
            "1234 bytes up, 56789 bytes down, 250 ms, RealServerReset by RealServer\n",
            Format(log, Sample));

        using var journal = new BatchedConnectionLog(1, Stream.Null, ConnectionLogStyle.Journal, clock);
        Assert.StartsWith("<6>vipproxy.vs.198.18.0.200:8066[1000] 198.18.0.9:40000 -> ", Format(journal, Sample));
        Assert.Contains("-> (none): 0 bytes up", Format(journal, Sample with { RealServer = null, BytesFromClient = 0 }));
    }

    [Fact]
    public async Task Lines_are_written_in_batches_of_at_most_one_pipe_buffer_ending_at_line_boundaries()
    {
        var output = new RecordingStream();
        using (var log = new BatchedConnectionLog(2, output))
        {
            for (int i = 0; i < 500; i++)
            {
                log.Write(i % 2, Sample with { Id = i, BytesFromClient = i });
                if (i % 50 == 49)
                {
                    log.Flush(0);
                    log.Flush(1);
                }
            }

            await Eventually.TrueAsync(() => output.Lines == 500, TestClient.Deadline);
            Assert.True(log.Writes < 100, $"{log.Writes} writes for 500 lines");
            Assert.Equal(0, log.Dropped);
        }

        Assert.All(output.Writes, write =>
        {
            Assert.InRange(write.Length, 1, BatchedConnectionLog.BatchBytes);
            Assert.Equal((byte)'\n', write[^1]);
        });
    }

    [Fact]
    public async Task A_runtime_on_loops_with_the_batched_log_writes_one_line_per_connection()
    {
        var output = new RecordingStream();
        using var log = new BatchedConnectionLog(2, output);
        await using var loops = new Forwarding.Loop.EventLoopGroup(2, connectionLog: log);
        await using var server = LoopbackServer.IdEcho("A");
        await using var runtime = new VirtualServerRuntime(
            TestConfigs.Virtual(SchedulingAlgorithm.RoundRobin, [TestConfigs.Real(server.Endpoint)]), loops: loops);
        await runtime.StartAsync();
        for (int i = 0; i < 20; i++)
        {
            Assert.Equal("A", await TestClient.WhoAnswersAsync(runtime.Address()));
        }

        await Eventually.TrueAsync(() => output.Lines == 20, TestClient.Deadline);
        string text = output.Text;
        Assert.Equal(20, text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Count(line =>
            line.Contains($" -> {runtime.Address()} -> {server.Endpoint}: 0 bytes up, 2 bytes down, ", StringComparison.Ordinal)
            && line.EndsWith(" ClientClosed by Client", StringComparison.Ordinal)));
    }

    [Fact]
    public void A_blocked_output_never_stalls_the_loop_it_drops_and_counts_lines()
    {
        var output = new BlockedStream();
        var log = new BatchedConnectionLog(1, output);
        var watch = System.Diagnostics.Stopwatch.StartNew();
        int lines = 0;
        for (int batch = 0; batch < BatchedConnectionLog.MaxQueuedBatches + 100; batch++)
        {
            for (int i = 0; i < 5; i++, lines++)
            {
                log.Write(0, Sample with { Id = lines });
            }

            log.Flush(0);
        }

        // The loop side returned at once although the writer is stuck in its first write.
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"writes took {watch.Elapsed}");
        Assert.InRange(log.Dropped, 5 * 99, 5 * 101);
        Assert.Equal(lines, log.Lines);
        output.Release.Set();
        log.Dispose();
    }

    [Fact]
    public async Task Log_connections_off_writes_nothing()
    {
        var capture = new CapturingLogger();
        await using var server = LoopbackServer.IdEcho("A");
        await using var runtime = new VirtualServerRuntime(
            TestConfigs.Virtual(SchedulingAlgorithm.RoundRobin, [TestConfigs.Real(server.Endpoint)]),
            ForwarderOptions.Default with { LogConnections = false }, logger: capture);
        await runtime.StartAsync();
        Assert.Equal("A", await TestClient.WhoAnswersAsync(runtime.Address()));
        await Eventually.TrueAsync(() => runtime.GetStatus().CountOf(CloseReason.ClientClosed) == 1, TestClient.Deadline);
        Assert.Empty(capture.Finished);
    }

    private static string Format(BatchedConnectionLog log, ConnectionRecord record)
    {
        Span<byte> line = stackalloc byte[512];
        int length = log.Format(line, record);
        return Encoding.ASCII.GetString(line[..length]);
    }

    private sealed class BlockedStream : Stream
    {
        public ManualResetEventSlim Release { get; } = new();

        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => 0;
        public override long Position { get => 0; set { } }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => Release.Wait();
    }

    private sealed class RecordingStream : Stream
    {
        private readonly List<byte[]> _writes = [];

        public IReadOnlyList<byte[]> Writes
        {
            get
            {
                lock (_writes)
                {
                    return [.. _writes];
                }
            }
        }

        public int Lines => Writes.Sum(write => write.Count(b => b == (byte)'\n'));

        public string Text => string.Concat(Writes.Select(write => Encoding.ASCII.GetString(write)));

        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => 0;
        public override long Position { get => 0; set { } }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count)
        {
            lock (_writes)
            {
                _writes.Add(buffer.AsSpan(offset, count).ToArray());
            }
        }
    }
}
