using System.Buffers;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using VipProxy.Config.Model;

namespace VipProxy.HealthChecks.Probes.Http;

/// <summary>
/// One <c>url</c> of HTTP_GET on a connected socket: send the request, read the status and headers, stream the body
/// through MD5 when a digest is configured, and judge the result.
/// </summary>
/// <remarks>
/// The request is HTTP/1.0 with <c>Connection: close</c>, as keepalived sends by default: a server must not answer
/// an HTTP/1.0 request with a chunked body (RFC 9112 §6.1), so the body ends at Content-Length or at the close.
/// The body is hashed as it arrives and never kept, so a large page costs no memory.
/// </remarks>
internal static class HttpGetExchange
{
    private const int MaxHeadBytes = 64 * 1024;
    private static readonly byte[] HeadTerminator = "\r\n\r\n"u8.ToArray();

    public static async Task<ProbeResult> RunAsync(
        Socket socket, HttpUrl url, string hostHeader, ProbeStep step, CancellationToken deadline)
    {
        step.Current = $"sending GET {url.Path}";
        byte[] request = Encoding.ASCII.GetBytes(
            $"GET {url.Path} HTTP/1.0\r\nHost: {hostHeader}\r\nUser-Agent: VipProxy-HealthCheck\r\nConnection: close\r\n\r\n");
        await socket.SendAsync(request, SocketFlags.None, deadline).ConfigureAwait(false);

        step.Current = $"reading the response to GET {url.Path}";
        byte[] buffer = ArrayPool<byte>.Shared.Rent(16 * 1024);
        try
        {
            int filled = 0;
            int headEnd;
            while ((headEnd = buffer.AsSpan(0, filled).IndexOf(HeadTerminator)) < 0)
            {
                if (filled == buffer.Length)
                {
                    if (buffer.Length >= MaxHeadBytes)
                    {
                        throw new InvalidDataException($"response headers longer than {MaxHeadBytes} bytes");
                    }

                    byte[] larger = ArrayPool<byte>.Shared.Rent(buffer.Length * 2);
                    buffer.AsSpan(0, filled).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = larger;
                }

                int read = await socket.ReceiveAsync(buffer.AsMemory(filled), SocketFlags.None, deadline).ConfigureAwait(false);
                if (read == 0)
                {
                    throw new EndOfStreamException();
                }

                filled += read;
            }

            HttpResponseHead head = HttpResponseHead.Parse(buffer.AsSpan(0, headEnd));
            if (!url.StatusCodes.Any(range => range.Contains(head.StatusCode)))
            {
                return ProbeResult.Down(
                    $"GET {url.Path}: status {head.StatusCode}, expected {string.Join(',', url.StatusCodes)}", head.StatusCode);
            }

            if (url.Digest is null)
            {
                return ProbeResult.Up($"GET {url.Path}: status {head.StatusCode}");
            }

            step.Current = $"reading the body of GET {url.Path}";
            string digest = await HashBodyAsync(socket, buffer, headEnd + HeadTerminator.Length, filled, head.ContentLength, deadline)
                .ConfigureAwait(false);
            return string.Equals(digest, url.Digest, StringComparison.OrdinalIgnoreCase)
                ? ProbeResult.Up($"GET {url.Path}: status {head.StatusCode}, digest {digest}")
                : ProbeResult.Down($"GET {url.Path}: digest {digest}, expected {url.Digest}", head.StatusCode);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static async Task<string> HashBodyAsync(
        Socket socket, byte[] buffer, int bodyStart, int filled, long? contentLength, CancellationToken deadline)
    {
        // keepalived's digest is the MD5 of the body: a fingerprint of the page, not a security measure.
#pragma warning disable CA5351 // MD5 is what the keepalived.conf digest keyword specifies.
        using var md5 = IncrementalHash.CreateHash(HashAlgorithmName.MD5);
#pragma warning restore CA5351
        long remaining = contentLength ?? long.MaxValue;
        int already = (int)Math.Min(filled - bodyStart, remaining);
        md5.AppendData(buffer, bodyStart, already);
        remaining -= already;
        while (remaining > 0)
        {
            int read = await socket.ReceiveAsync(buffer, SocketFlags.None, deadline).ConfigureAwait(false);
            if (read == 0)
            {
                if (contentLength is not null)
                {
                    throw new EndOfStreamException();
                }

                break;
            }

            int used = (int)Math.Min(read, remaining);
            md5.AppendData(buffer, 0, used);
            remaining -= used;
        }

        return Convert.ToHexStringLower(md5.GetHashAndReset());
    }
}
