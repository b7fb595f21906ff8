using System.Net.Sockets;
using Microsoft.Extensions.Logging.Abstractions;
using VipProxy.Host.Control;

namespace VipProxy.Host.Tests;

public sealed class ControlSocketTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), $"vipproxy-control-{Guid.NewGuid():N}");

    private string SocketPath => Path.Combine(_directory, "control.sock");

    [Fact]
    public async Task Answers_status_and_is_private_to_its_owner()
    {
        await using var server = new ControlSocketServer(SocketPath, () => "{\"ok\": true}", NullLogger.Instance);
        server.Start();
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(SocketPath));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(_directory));
        Assert.Equal(CurrentUid(), await OwnerUidAsync(SocketPath));
        Assert.Equal("{\"ok\": true}\n", await ControlClient.RequestAsync(SocketPath, "status", TimeSpan.FromSeconds(5)));
        Assert.Contains("unknown command", await ControlClient.RequestAsync(SocketPath, "frobnicate", TimeSpan.FromSeconds(5)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_stale_socket_file_is_replaced_but_a_live_one_is_not()
    {
        Directory.CreateDirectory(_directory);
        using (var stale = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
        {
            stale.Bind(new UnixDomainSocketEndPoint(SocketPath)); // bound, never listening: what a killed process leaves
        }

        await using var first = new ControlSocketServer(SocketPath, () => "first", NullLogger.Instance);
        first.Start();
        await using var second = new ControlSocketServer(SocketPath, () => "second", NullLogger.Instance);
        var refused = Assert.Throws<InvalidOperationException>(second.Start);
        Assert.Contains("--socket", refused.Message, StringComparison.Ordinal);
        Assert.Equal("first\n", await ControlClient.RequestAsync(SocketPath, "status", TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public async Task Requests_go_to_the_handler_and_an_oversized_one_is_refused_unread()
    {
        var seen = new List<string>();
        await using var server = new ControlSocketServer(SocketPath, () => "status", (line, _) =>
        {
            seen.Add(line);
            return Task.FromResult("handled");
        }, NullLogger.Instance);
        server.Start();

        Assert.Equal("handled\n", await ControlClient.RequestAsync(SocketPath, "{\"command\": \"x\"}", TimeSpan.FromSeconds(5)));
        string oversized = await ControlClient.RequestAsync(SocketPath, "{\"command\": \"" + new string('a', ControlProtocol.MaxRequestBytes) + "\"}", TimeSpan.FromSeconds(5));
        Assert.Contains("\"ok\": false", oversized, StringComparison.Ordinal);
        Assert.Contains($"request longer than {ControlProtocol.MaxRequestBytes} bytes", oversized, StringComparison.Ordinal);
        Assert.Contains("unknown command", await ControlClient.RequestAsync(SocketPath, "drain everything", TimeSpan.FromSeconds(5)), StringComparison.Ordinal);
        Assert.Equal(["{\"command\": \"x\"}"], seen);
    }

    [Fact]
    public async Task The_socket_file_is_removed_on_dispose()
    {
        var server = new ControlSocketServer(SocketPath, () => "x", NullLogger.Instance);
        server.Start();
        await server.DisposeAsync();
        Assert.False(File.Exists(SocketPath));
    }

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    private static string CurrentUid() => File.ReadLines("/proc/self/status").First(l => l.StartsWith("Uid:", StringComparison.Ordinal)).Split('\t')[2];

    private static async Task<string> OwnerUidAsync(string path)
    {
        using var stat = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("stat", ["-c", "%u", path]) { RedirectStandardOutput = true })!;
        string output = await stat.StandardOutput.ReadToEndAsync();
        await stat.WaitForExitAsync();
        return output.Trim();
    }
}
