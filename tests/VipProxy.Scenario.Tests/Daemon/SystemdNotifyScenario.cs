using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text;
using VipProxy.Lab;
using Xunit.Abstractions;

namespace VipProxy.Scenario.Tests.Daemon;

/// <summary>
/// systemd's Type=notify without systemd: the conf/vipproxy.service unit relies on the daemon sending READY=1 once
/// it serves and STOPPING=1 on SIGTERM over $NOTIFY_SOCKET (sd_notify(3)), and on journald-style "&lt;N&gt;" level
/// prefixes. Microsoft.Extensions.Hosting.Systemd turns these on only under systemd: when the parent process is
/// named systemd, or for PID 1 with NOTIFY_SOCKET set (the container case). The test takes the second way: the
/// daemon runs as PID 1 of its own PID namespace (unshare --pid --fork) with NOTIFY_SOCKET pointing at a datagram
/// socket the test reads, which is what systemd's notify socket is.
/// </summary>
[Collection(NetworkScenariosCollection.Name)]
[Trait("Category", "Root")]
public sealed class SystemdNotifyScenario(ITestOutputHelper output)
{
    [Fact]
    public async Task Under_a_notify_socket_the_daemon_reports_READY_once_serving_and_STOPPING_on_SIGTERM()
    {
        using var files = new ScenarioFiles();
        await using var lan = await Lan.CreateAsync(output.WriteLine);
        var front = await lan.AddSwitchAsync("front", 0);
        var lb1 = await lan.AddHostAsync("lb1");
        await lb1.ConnectAsync(front, 2);

        string notifyPath = files.PathOf("notify.sock");
        using var notify = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        notify.Bind(new UnixDomainSocketEndPoint(notifyPath));

        string config = files.Write("lb1.conf", Vrrp.Instance(lb1, 100) + $$"""

            virtual_server {{Vrrp.Vip}} 8066 {
                lb_algo rr
                lb_kind NAT
                protocol TCP
                real_server 198.18.1.11 8066 {
                }
            }
            """);
        var clock = Stopwatch.StartNew();
        var daemon = lb1.Start("unshare", ["--pid", "--fork", "--kill-child", Vrrp.DotNet, Vrrp.VipProxyDll, "run", "-f", config, "--socket", files.PathOf("lb1.sock")],
            new Dictionary<string, string?> { ["NOTIFY_SOCKET"] = notifyPath });

        string ready = await ReceiveAsync(notify, TimeSpan.FromSeconds(30));
        var readyAt = clock.Elapsed;
        // READY=1 comes after the listeners are bound and VRRP has started: the control socket answers.
        var status = (await Vrrp.RunVipProxyAsync(lb1, "status", "--json", "--socket", files.PathOf("lb1.sock"))).EnsureSuccess("vipproxy status --json");
        Assert.Contains("READY=1", ready, StringComparison.Ordinal);
        Assert.Contains("\"virtual_servers\"", status.StandardOutput, StringComparison.Ordinal);
        // journald reads the syslog level from a "<N>" prefix; under systemd the console logger writes one.
        Assert.Contains(daemon.OutputLines, l => l.StartsWith("<6>", StringComparison.Ordinal) && l.Contains("started from", StringComparison.Ordinal));
        // Nothing listens on a network address unless configured: the virtual server's VIP:port is the only TCP
        // listening address (no metrics_listen here; the control socket is a Unix socket). Each forwarder event loop
        // has its own socket on it (one SO_REUSEPORT group), so ss lists the address once per loop.
        var listeners = (await lb1.RunAsync("ss", ["-Htln"], TimeSpan.FromSeconds(10))).EnsureSuccess("ss -Htln").StandardOutput
            .Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[3])
            .ToList();
        output.WriteLine("TCP listeners in lb1: " + string.Join(", ", listeners));
        Assert.Equal([$"{Vrrp.Vip}:8066"], listeners.Distinct());

        int pid = ChildOf(daemon.Id);
        using (var kill = Process.Start("kill", ["-TERM", pid.ToString(CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync();
        }

        string stopping = await ReceiveAsync(notify, TimeSpan.FromSeconds(15));
        int exit = await daemon.WaitForExitAsync(TimeSpan.FromSeconds(30));
        output.WriteLine($"READY after {readyAt.TotalMilliseconds:F0} ms: '{ready}'; after SIGTERM to pid {pid}: '{stopping}'; exit {exit}");
        Assert.Contains("STOPPING=1", stopping, StringComparison.Ordinal);
        Assert.Equal(0, exit);
    }

    private static async Task<string> ReceiveAsync(Socket socket, TimeSpan timeout)
    {
        var buffer = new byte[4096];
        using var cancel = new CancellationTokenSource(timeout);
        int length = await socket.ReceiveAsync(buffer, SocketFlags.None, cancel.Token);
        return Encoding.UTF8.GetString(buffer, 0, length);
    }

    /// <summary>unshare --fork runs the daemon as its only child; that child (PID 1 inside) is the one to signal.</summary>
    private static int ChildOf(int pid)
    {
        string children = File.ReadAllText($"/proc/{pid}/task/{pid}/children").Trim();
        return int.Parse(children.Split(' ')[0], CultureInfo.InvariantCulture);
    }
}
