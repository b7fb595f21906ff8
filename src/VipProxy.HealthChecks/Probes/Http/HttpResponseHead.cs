using System.Globalization;
using System.Text;

namespace VipProxy.HealthChecks.Probes.Http;

/// <summary>The status line and the headers that matter to a health check.</summary>
/// <param name="StatusCode">The three-digit status.</param>
/// <param name="ContentLength">The body length when the server declared it.</param>
internal sealed record HttpResponseHead(int StatusCode, long? ContentLength)
{
    /// <summary>Parses <c>HTTP/1.x NNN reason\r\nName: value\r\n…</c> (without the blank line).</summary>
    /// <exception cref="InvalidDataException">Not an HTTP response.</exception>
    public static HttpResponseHead Parse(ReadOnlySpan<byte> head)
    {
        string text = Encoding.Latin1.GetString(head);
        string[] lines = text.Split("\r\n");
        string statusLine = lines[0];
        if (!statusLine.StartsWith("HTTP/", StringComparison.Ordinal)
            || statusLine.Length < 12
            || statusLine[8] != ' '
            || !int.TryParse(statusLine.AsSpan(9, 3), NumberStyles.None, CultureInfo.InvariantCulture, out int status))
        {
            throw new InvalidDataException($"not an HTTP status line: '{Truncate(statusLine)}'");
        }

        long? contentLength = null;
        foreach (string line in lines.AsSpan(1))
        {
            int colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0
                && line.AsSpan(0, colon).Trim().Equals("Content-Length", StringComparison.OrdinalIgnoreCase)
                && long.TryParse(line.AsSpan(colon + 1).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out long length))
            {
                contentLength = length;
            }
        }

        return new HttpResponseHead(status, contentLength);
    }

    private static string Truncate(string text) => text.Length <= 60 ? text : text[..60] + "…";
}
