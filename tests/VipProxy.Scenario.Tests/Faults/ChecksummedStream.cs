using System.Buffers.Binary;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using VipProxy.Scenario.Tests.Forwarding;

namespace VipProxy.Scenario.Tests.Faults;

/// <summary>How one checksummed stream ended, as its client saw it.</summary>
internal enum StreamVerdict
{
    /// <summary>N echoed bytes and the server's digest, all equal to what was sent, then EOF.</summary>
    Intact,

    /// <summary>The connect failed (refused, reset, or no answer within the connect deadline).</summary>
    ConnectFailed,

    /// <summary>An established stream was reset or hit a socket error: the client saw an error.</summary>
    Reset,

    /// <summary>EOF before N + 32 bytes: the client, knowing N, sees the reply is incomplete.</summary>
    EarlyEof,

    /// <summary>Neither data nor an error before the client's own deadline (a hang: visible only by timing out).</summary>
    TimedOut,

    /// <summary>
    /// A reply of full length (or longer) whose bytes or digest differ from what was sent: data lost or altered
    /// without any error. Must never happen.
    /// </summary>
    Corrupted,
}

internal sealed record StreamResult(StreamVerdict Verdict, long Length, long Sent, long Received, TimeSpan Started, TimeSpan Ended, string? Detail)
{
    /// <summary>The client's port, once connected (to find the stream in the daemons' connection log).</summary>
    public int LocalPort { get; init; }

    /// <summary>What the LB nodes held for this stream's 4-tuple when it was seen stalled (null: never stalled).</summary>
    public string? Stall { get; init; }

    public override string ToString() =>
        $"{Verdict} at {Started.TotalSeconds:F2}-{Ended.TotalSeconds:F2} s, port {LocalPort}: {Sent}/{Length} sent, {Received}/{Length + 32} received{(Detail is null ? "" : ", " + Detail)}{(Stall is null ? "" : "; stalled: " + Stall)}";
}

/// <summary>
/// The client side of <see cref="DigestEchoServer"/>'s protocol: connects from a namespace thread, sends the length
/// and <c>length</c> pseudo-random bytes in paced chunks while reading the echo, and classifies the end.
/// </summary>
internal static class ChecksummedStream
{
    public const int ChunkSize = 16 * 1024;
    private const int DigestLength = 32;

    /// <summary>Runs one stream; <paramref name="port"/> receives the client's port as soon as it is connected.</summary>
    public static async Task<StreamResult> RunAsync(NamespaceThread client, IPEndPoint target, int seed, int length, TimeSpan pace,
        TimeSpan connectDeadline, TimeSpan deadline, Stopwatch clock, StrongBox<int>? port = null)
    {
        port ??= new StrongBox<int>();
        var result = await RunCoreAsync(client, target, seed, length, pace, connectDeadline, deadline, clock, port);
        return result with { LocalPort = port.Value };
    }

    private static async Task<StreamResult> RunCoreAsync(NamespaceThread client, IPEndPoint target, int seed, int length, TimeSpan pace,
        TimeSpan connectDeadline, TimeSpan deadline, Stopwatch clock, StrongBox<int> port)
    {
        var started = clock.Elapsed;
        using var socket = await client.CreateTcpSocketAsync();
        try
        {
            using var connecting = new CancellationTokenSource(connectDeadline);
            await socket.ConnectAsync(target, connecting.Token);
            port.Value = ((IPEndPoint)socket.LocalEndPoint!).Port;
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException)
        {
            return new StreamResult(StreamVerdict.ConnectFailed, length, 0, 0, started, clock.Elapsed, Describe(e));
        }

        using var timeout = new CancellationTokenSource(deadline);
        var token = timeout.Token;
        using var sentHash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        long sent = 0;
        var receiving = ReceiveAsync(socket, length, token);
        try
        {
            var header = new byte[8];
            BinaryPrimitives.WriteInt64BigEndian(header, length);
            await SendAllAsync(socket, header, token);
            var random = new Random(seed);
            var chunk = new byte[ChunkSize];
            while (sent < length)
            {
                int size = (int)Math.Min(ChunkSize, length - sent);
                random.NextBytes(chunk.AsSpan(0, size));
                sentHash.AppendData(chunk, 0, size);
                await SendAllAsync(socket, chunk.AsMemory(0, size), token);
                sent += size;
                if (receiving.IsCompleted)
                {
                    break; // the reply already ended (reset or EOF): sending on would only hide why
                }

                await Task.Delay(pace, token);
            }
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // The receiving side tells how the stream ended; a send error alone means a reset.
            if (!receiving.IsCompleted && e is SocketException)
            {
                socket.Dispose();
                await Task.WhenAny(receiving, Task.Delay(TimeSpan.FromSeconds(1)));
                return new StreamResult(StreamVerdict.Reset, length, sent, 0, started, clock.Elapsed, "send: " + Describe(e));
            }
        }

        Reply reply;
        try
        {
            reply = await receiving;
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            return new StreamResult(StreamVerdict.Reset, length, sent, 0, started, clock.Elapsed, Describe(e));
        }

        var ended = clock.Elapsed;
        if (reply.Error is { } error)
        {
            var verdict = error is OperationCanceledException ? StreamVerdict.TimedOut : StreamVerdict.Reset;
            return new StreamResult(verdict, length, sent, reply.Received, started, ended, Describe(error));
        }

        if (reply.Received < length + DigestLength)
        {
            return new StreamResult(StreamVerdict.EarlyEof, length, sent, reply.Received, started, ended, null);
        }

        byte[] expected = sentHash.GetHashAndReset();
        if (sent != length || reply.Received != length + DigestLength)
        {
            return new StreamResult(StreamVerdict.Corrupted, length, sent, reply.Received, started, ended, "length differs");
        }

        if (!expected.AsSpan().SequenceEqual(reply.EchoDigest) || !expected.AsSpan().SequenceEqual(reply.ServerDigest))
        {
            return new StreamResult(StreamVerdict.Corrupted, length, sent, reply.Received, started, ended, "checksum differs");
        }

        return new StreamResult(StreamVerdict.Intact, length, sent, reply.Received, started, ended, null);
    }

    private sealed record Reply(long Received, byte[] EchoDigest, byte[] ServerDigest, Exception? Error);

    /// <summary>Reads to EOF (or error, or deadline): the echo's SHA-256 and the server's 32-byte digest.</summary>
    private static Task<Reply> ReceiveAsync(Socket socket, long length, CancellationToken token) => Task.Run(async () =>
    {
        using var echoHash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var serverDigest = new byte[DigestLength];
        var buffer = new byte[64 * 1024];
        long received = 0;
        try
        {
            int read;
            while ((read = await socket.ReceiveAsync(buffer, SocketFlags.None, token)) > 0)
            {
                long from = Math.Max(received, length), to = Math.Min(received + read, length + DigestLength);
                if (from < to)
                {
                    buffer.AsSpan((int)(from - received), (int)(to - from)).CopyTo(serverDigest.AsSpan((int)(from - length)));
                }

                int echoed = (int)Math.Clamp(length - received, 0, read);
                echoHash.AppendData(buffer, 0, echoed);
                received += read;
            }

            return new Reply(received, echoHash.GetHashAndReset(), serverDigest, null);
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException)
        {
            return new Reply(received, [], serverDigest, e);
        }
    });

    private static async Task SendAllAsync(Socket socket, ReadOnlyMemory<byte> data, CancellationToken token)
    {
        while (!data.IsEmpty)
        {
            int sent = await socket.SendAsync(data, SocketFlags.None, token);
            data = data[sent..];
        }
    }

    private static string Describe(Exception e) => e switch
    {
        SocketException s => s.SocketErrorCode.ToString(),
        OperationCanceledException => "deadline",
        _ => e.GetType().Name,
    };
}
