using System.Globalization;
using VipProxy.Lab;

namespace VipProxy.Scenario.Tests.Forwarding;

/// <summary>
/// Debian's nginx in the foreground inside a host, one process, everything under a private directory. Each listener
/// answers every request with what nginx knows of the peer, so a test reads back the address a real server sees:
/// <c>$remote_addr</c>, and on <c>proxy_protocol</c> listeners also <c>$proxy_protocol_addr</c>. A proxy_protocol
/// listener refuses a request that does not start with a PROXY header (400), as a real deployment would.
/// </summary>
internal sealed class NginxServer : IAsyncDisposable
{
    private readonly LanProcess _process;

    private NginxServer(LanProcess process) => _process = process;

    /// <summary>What a request to a plain listener returns: "remote=$remote_addr".</summary>
    public const string PlainBody = "remote=$remote_addr";

    /// <summary>What a request to a proxy_protocol listener returns.</summary>
    public const string ProxyProtocolBody = "proxy=$proxy_protocol_addr:$proxy_protocol_port remote=$remote_addr";

    public static async Task<NginxServer> StartAsync(LanHost host, ScenarioFiles files, int[] plainPorts, int[] proxyProtocolPorts)
    {
        string directory = Path.Combine(files.Directory, $"{host.Name}-nginx");
        Directory.CreateDirectory(directory);
        string Listener(int port, bool proxyProtocol) => string.Create(CultureInfo.InvariantCulture, $$"""
                server {
                    listen {{host.Address}}:{{port}}{{(proxyProtocol ? " proxy_protocol" : "")}};
                    location / { return 200 "{{(proxyProtocol ? ProxyProtocolBody : PlainBody)}}\n"; }
                }
            """);
        string config = $$"""
            daemon off;
            master_process off;
            pid {{directory}}/nginx.pid;
            error_log stderr notice;
            events { worker_connections 128; }
            http {
                access_log off;
                client_body_temp_path {{directory}}/body;
                proxy_temp_path {{directory}}/proxy;
                fastcgi_temp_path {{directory}}/fastcgi;
                uwsgi_temp_path {{directory}}/uwsgi;
                scgi_temp_path {{directory}}/scgi;
                default_type text/plain;
            {{string.Join("\n", plainPorts.Select(p => Listener(p, false)).Concat(proxyProtocolPorts.Select(p => Listener(p, true))))}}
            }
            """;
        string path = files.Write($"{host.Name}-nginx.conf", config);
        var process = host.Start("nginx", "-e", "stderr", "-p", directory, "-c", path);
        var server = new NginxServer(process);
        try
        {
            // Ready once every listener accepts: nginx prints nothing on a clean start.
            foreach (int port in plainPorts.Concat(proxyProtocolPorts))
            {
                await WaitForListenerAsync(host, port);
            }

            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    private static async Task WaitForListenerAsync(LanHost host, int port)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while (true)
        {
            var result = await host.RunAsync("ss", "-Htln", $"sport = :{port}");
            if (result.Succeeded && result.StandardOutput.Contains("LISTEN", StringComparison.Ordinal))
            {
                return;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"nginx on {host.Name} is not listening on {port}");
            }

            await Task.Delay(50);
        }
    }

    public IReadOnlyList<string> Output => _process.OutputLines;

    public ValueTask DisposeAsync() => _process.DisposeAsync();
}
