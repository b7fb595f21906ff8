using System.Globalization;
using VipProxy.Lab;

namespace VipProxy.Scenario.Tests.Faults;

/// <summary>
/// A real server for checksummed streams, as a separate process (python3, like <see cref="Forwarding.NameServer"/>)
/// so that kill -9 is a crash as the kernel sees it. Protocol, per connection: the client sends an 8-byte big-endian
/// length N, then N bytes; the server echoes every payload byte as it arrives, and after the N-th sends the 32-byte
/// SHA-256 of what it received, then closes. The client therefore verifies every byte twice (the echo and the
/// server's digest) and always knows how many bytes a complete reply has: N + 32, then EOF.
/// </summary>
internal static class DigestEchoServer
{
    private const string Script = """
        import hashlib, socket, socketserver, struct, sys

        class Handler(socketserver.BaseRequestHandler):
            def handle(self):
                s = self.request
                header = b""
                while len(header) < 8:
                    part = s.recv(8 - len(header))
                    if not part:
                        return
                    header += part
                (left,) = struct.unpack(">Q", header)
                digest = hashlib.sha256()
                while left > 0:
                    data = s.recv(min(left, 65536))
                    if not data:
                        return
                    digest.update(data)
                    s.sendall(data)
                    left -= len(data)
                s.sendall(digest.digest())
                s.shutdown(socket.SHUT_WR)
                while s.recv(65536):
                    pass

        class Server(socketserver.ThreadingTCPServer):
            allow_reuse_address = True
            daemon_threads = True
            request_queue_size = 256

            def handle_error(self, request, client_address):
                pass

        with Server((sys.argv[1], int(sys.argv[2])), Handler) as server:
            print("listening", flush=True)
            server.serve_forever()
        """;

    private static string Python { get; } = File.Exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";

    /// <summary>Starts the server on <paramref name="host"/>'s only back-side address and waits until it listens.</summary>
    public static async Task<LanProcess> StartAsync(LanHost host, System.Net.IPAddress address, int port)
    {
        var process = host.Start(Python, "-u", "-c", Script, address.ToString(), port.ToString(CultureInfo.InvariantCulture));
        await process.WaitForOutputAsync("listening", TimeSpan.FromSeconds(15));
        return process;
    }
}
