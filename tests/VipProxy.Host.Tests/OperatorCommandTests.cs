using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using VipProxy.Host.Control;

namespace VipProxy.Host.Tests;

/// <summary>
/// The operator commands end to end: the real <c>vipproxy run</c> process on loopback, its control socket, and the
/// real <c>vipproxy server|connections|vrrp</c> CLI, with two loopback real servers that announce their name and echo.
/// Drain, weight, kill, disable --shutdown-sessions, bad input, and the state surviving SIGHUP and a restart.
/// </summary>
public sealed class OperatorCommandTests : IDisposable
{
    private static readonly string Binary = Path.Combine(AppContext.BaseDirectory, "vipproxy");
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(20);

    private readonly string _directory = Directory.CreateTempSubdirectory("vipproxy-operator-").FullName;

    private string ConfigPath => Path.Combine(_directory, "vipproxy.conf");

    private string StatePath => Path.Combine(_directory, "state", "state.json");

    private string SocketPath => Path.Combine(_directory, "control.sock");

    [Fact]
    public async Task Drain_weight_kill_and_disable_change_new_connections_only_and_survive_sighup_and_restart()
    {
        using var a = new NamedEchoServer("A");
        using var b = new NamedEchoServer("B");
        int port = FreePort();
        string vs = $"127.0.0.1:{port}";
        var vip = new IPEndPoint(IPAddress.Loopback, port);
        string Config(int weightOfA) => $$"""
            global_defs {
                state_file {{StatePath}}
                log_connections off
            }
            virtual_server 127.0.0.1 {{port}} {
                lb_algo wrr
                real_server 127.0.0.1 {{a.Port}} {
                    weight {{weightOfA}}
                }
                real_server 127.0.0.1 {{b.Port}} {
                    weight 1
                }
            }
            """;
        await File.WriteAllTextAsync(ConfigPath, Config(1));

        // No daemon yet: the CLI names the missing socket.
        var missing = await CliAsync("status");
        Assert.Equal(1, missing.Exit);
        Assert.Contains($"the control socket {SocketPath} does not exist", missing.Errors, StringComparison.Ordinal);
        Assert.DoesNotContain("Cannot assign requested address", missing.Errors, StringComparison.Ordinal);

        await using var daemon = await DaemonProcess.StartAsync(Binary, ConfigPath, SocketPath);

        // An established connection to A keeps working through the drain of A.
        using Socket established = await ConnectToAsync(vip, "A");
        var drain = await CliAsync("server", "drain", vs, a.Name);
        Assert.True(drain.Exit == 0, drain.Errors);
        Assert.Contains($"real_server {a.Name} of virtual_server {vs}: drain (was: enabled)", drain.Output, StringComparison.Ordinal);
        Assert.Equal(["B", "B", "B", "B", "B", "B"], await WhoAnswersAsync(vip, 6));
        Assert.Equal("still here", await EchoAsync(established, "still here"));
        await daemon.WaitForOutputAsync("operator server-drain: real_server " + a.Name);

        using (JsonDocument status = await StatusJsonAsync())
        {
            JsonElement serverA = RealServer(status, a.Port);
            Assert.Equal("drain", serverA.GetProperty("operator").GetString());
            Assert.Equal(0, serverA.GetProperty("weight").GetInt32());
            Assert.Equal(1, serverA.GetProperty("active_connections").GetInt64());
            Assert.True(serverA.GetProperty("operator_set_at").GetDateTimeOffset() > DateTimeOffset.UtcNow.AddMinutes(-5));
            Assert.Equal(StatePath, status.RootElement.GetProperty("operator_state").GetProperty("state_file").GetString());
        }

        var table = await CliAsync("status");
        Assert.Contains("drain since ", table.Output, StringComparison.Ordinal);

        // Bad input: a precise error, non-zero exit, and no change (the state file keeps its bytes).
        byte[] stateBefore = await File.ReadAllBytesAsync(StatePath);
        var outOfRange = await CliAsync("server", "weight", vs, b.Name, "70000");
        Assert.Equal(1, outOfRange.Exit);
        Assert.Contains("weight 70000 is out of range: it must be from 0 to 65535", outOfRange.Errors, StringComparison.Ordinal);
        string negative = await ControlClient.RequestAsync(SocketPath,
            $"{{\"command\": \"server-weight\", \"virtual_server\": \"{vs}\", \"real_server\": \"{b.Name}\", \"weight\": -1}}", Deadline);
        Assert.Contains("weight -1 is out of range", negative, StringComparison.Ordinal);
        var unknownVs = await CliAsync("server", "drain", "127.0.0.1:1", a.Name);
        Assert.Equal(1, unknownVs.Exit);
        Assert.Contains($"no virtual_server 127.0.0.1:1; configured: {vs}", unknownVs.Errors, StringComparison.Ordinal);
        var unknownRs = await CliAsync("server", "disable", vs, "127.0.0.1:1");
        Assert.Equal(1, unknownRs.Exit);
        Assert.Contains($"has no real_server 127.0.0.1:1; its real servers: {a.Name}, {b.Name}", unknownRs.Errors, StringComparison.Ordinal);
        var malformedVs = await CliAsync("server", "drain", "bogus", a.Name);
        Assert.Contains("virtual server 'bogus' is not ADDR:PORT", malformedVs.Errors, StringComparison.Ordinal);
        var unknownInstance = await CliAsync("vrrp", "demote", "VI_9");
        Assert.Equal(1, unknownInstance.Exit);
        Assert.Contains("no vrrp_instance 'VI_9'; configured: none", unknownInstance.Errors, StringComparison.Ordinal);
        var unknownId = await CliAsync("connections", "kill", "999999999");
        Assert.Equal(1, unknownId.Exit);
        Assert.Contains("no live connection with id 999999999", unknownId.Errors, StringComparison.Ordinal);
        Assert.Contains("\"ok\": false", await ControlClient.RequestAsync(SocketPath, "{\"command\": ", Deadline), StringComparison.Ordinal);
        Assert.Contains("unknown command 'server-frobnicate'", await ControlClient.RequestAsync(SocketPath, "{\"command\": \"server-frobnicate\"}", Deadline), StringComparison.Ordinal);
        string oversized = await ControlClient.RequestAsync(SocketPath, "{\"command\": \"server-drain\", \"virtual_server\": \"" + new string('1', 5000) + "\"}", Deadline);
        Assert.Contains("request longer than 4096 bytes", oversized, StringComparison.Ordinal);
        Assert.Equal(stateBefore, await File.ReadAllBytesAsync(StatePath));
        Assert.Equal("B", Assert.Single(await WhoAnswersAsync(vip, 1)));

        // The connection list shows the established connection; kill closes it with the operator's reason.
        var list = await CliAsync("connections", "--json");
        Assert.True(list.Exit == 0, list.Errors);
        long id;
        using (JsonDocument connections = JsonDocument.Parse(list.Output))
        {
            JsonElement row = connections.RootElement.GetProperty("connections").EnumerateArray()
                .Single(c => c.GetProperty("client").GetString() == established.LocalEndPoint!.ToString());
            Assert.Equal(vs, row.GetProperty("virtual_server").GetString());
            Assert.Equal(a.Name, row.GetProperty("real_server").GetString());
            Assert.Equal("still here\n".Length, row.GetProperty("bytes_from_client").GetInt64());
            Assert.True(row.GetProperty("age_seconds").GetDouble() >= 0);
            id = row.GetProperty("id").GetInt64();
        }

        var text = await CliAsync("connections", "--rs", a.Name);
        Assert.Contains(established.LocalEndPoint!.ToString()!, text.Output, StringComparison.Ordinal);
        Assert.Contains("REAL SERVER", text.Output, StringComparison.Ordinal);
        var kill = await CliAsync("connections", "kill", id.ToString(CultureInfo.InvariantCulture));
        Assert.True(kill.Exit == 0, kill.Errors);
        Assert.Contains("close reason OperatorClosed", kill.Output, StringComparison.Ordinal);
        Assert.True(await IsClosedAsync(established));
        await Eventually.TrueAsync(async () => (await CliAsync("connections", "--vs", vs)).Output.Trim() == "no live connections", Deadline, "no live connections");

        // Weight, then SIGHUP with a changed configured weight of the drained server: the drain and the weight stay.
        Assert.Equal(0, (await CliAsync("server", "weight", vs, b.Name, "3")).Exit);
        await File.WriteAllTextAsync(ConfigPath, Config(5));
        daemon.Signal("HUP");
        await daemon.WaitForOutputAsync("reload applied");
        using (JsonDocument status = await StatusJsonAsync())
        {
            JsonElement serverA = RealServer(status, a.Port);
            Assert.Equal(("drain", 5), (serverA.GetProperty("operator").GetString(), serverA.GetProperty("configured_weight").GetInt32()));
            Assert.Equal(3, RealServer(status, b.Port).GetProperty("operator_weight").GetInt32());
        }

        Assert.Equal(["B", "B", "B", "B"], await WhoAnswersAsync(vip, 4));

        // Restart: the state file brings both overrides back before the first client.
        await daemon.StopAsync();
        await using var restarted = await DaemonProcess.StartAsync(Binary, ConfigPath, SocketPath);
        await restarted.WaitForOutputAsync("operator state from " + StatePath + ": 2 real server override(s)");
        Assert.Equal(["B", "B", "B", "B"], await WhoAnswersAsync(vip, 4));
        using (JsonDocument status = await StatusJsonAsync())
        {
            Assert.Equal("drain", RealServer(status, a.Port).GetProperty("operator").GetString());
            Assert.Equal(3, RealServer(status, b.Port).GetProperty("weight").GetInt32());
        }

        // Enable: back to the configured weights (A 5, B 1).
        var enable = await CliAsync("server", "enable", vs, a.Name, "--json");
        Assert.True(enable.Exit == 0, enable.Errors);
        using (JsonDocument reply = JsonDocument.Parse(enable.Output))
        {
            Assert.True(reply.RootElement.GetProperty("ok").GetBoolean());
        }

        Assert.Equal(0, (await CliAsync("server", "enable", vs, b.Name)).Exit);
        List<string> shares = await WhoAnswersAsync(vip, 12);
        Assert.Equal((10, 2), (shares.Count(n => n == "A"), shares.Count(n => n == "B")));

        // disable --shutdown-sessions closes the established connections to that server.
        using Socket onB = await ConnectToAsync(vip, "B");
        await Eventually.TrueAsync(async () => await LiveConnectionsToAsync(b.Name) == 1, Deadline, "only the one connection to B");
        var disable = await CliAsync("server", "disable", vs, b.Name, "--shutdown-sessions");
        Assert.True(disable.Exit == 0, disable.Errors);
        Assert.Contains("1 established connection(s) closed", disable.Output, StringComparison.Ordinal);
        Assert.True(await IsClosedAsync(onB));
        Assert.Equal(["A", "A", "A"], await WhoAnswersAsync(vip, 3));
        Assert.Equal(0, (await CliAsync("server", "shutdown-sessions", vs, a.Name)).Exit);
    }

    [Fact]
    public async Task Shutdown_sessions_on_down_closes_a_failed_servers_sessions_after_the_grace_and_an_operator_disable_too()
    {
        using var a = new NamedEchoServer("A");
        using var b = new NamedEchoServer("B");
        int port = FreePort();
        var vip = new IPEndPoint(IPAddress.Loopback, port);
        string healthFile = Path.Combine(_directory, "a-healthy");
        await File.WriteAllTextAsync(healthFile, "");
        string check = Path.Combine(_directory, "check-a.sh");
        await File.WriteAllTextAsync(check, $"#!/bin/sh\ntest -e {healthFile}\n");
        File.SetUnixFileMode(check, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        await File.WriteAllTextAsync(ConfigPath, $$"""
            global_defs {
                state_file {{StatePath}}
            }
            virtual_server 127.0.0.1 {{port}} {
                lb_algo rr
                delay_loop 1
                shutdown_sessions_on_down 1
                real_server 127.0.0.1 {{a.Port}} {
                    MISC_CHECK {
                        misc_path "{{check}}"
                        misc_timeout 2
                    }
                }
                real_server 127.0.0.1 {{b.Port}} {
                    shutdown_sessions_on_down 0
                }
            }
            """);
        await using var daemon = await DaemonProcess.StartAsync(Binary, ConfigPath, SocketPath);

        // A fails its check: after the 1 s grace its established session is closed, B's is not.
        using Socket onA = await ConnectToAsync(vip, "A");
        using Socket onB = await ConnectToAsync(vip, "B");
        File.Delete(healthFile);
        var clock = Stopwatch.StartNew();
        await daemon.WaitForOutputAsync($"real_server 127.0.0.1:{a.Port} of virtual_server 127.0.0.1:{port} is down: shutdown_sessions_on_down closed 1 established connection(s)");
        TimeSpan closedAfter = clock.Elapsed;
        Assert.True(await IsClosedAsync(onA));
        Assert.Equal("B still", await EchoAsync(onB, "B still"));
        await daemon.WaitForOutputAsync("SessionsShutdown");

        // An operator disables B (grace 0): its session is closed without --shutdown-sessions.
        var disable = await CliAsync("server", "disable", $"127.0.0.1:{port}", $"127.0.0.1:{b.Port}");
        Assert.True(disable.Exit == 0, disable.Errors);
        await daemon.WaitForOutputAsync($"real_server 127.0.0.1:{b.Port} of virtual_server 127.0.0.1:{port} is disabled by an operator: shutdown_sessions_on_down closed 1 established connection(s)");
        Assert.True(await IsClosedAsync(onB));

        // Both back: A by its check, B by the operator.
        await File.WriteAllTextAsync(healthFile, "");
        Assert.True((await CliAsync("server", "enable", $"127.0.0.1:{port}", $"127.0.0.1:{b.Port}")).Exit == 0);
        await Eventually.TrueAsync(async () =>
        {
            using JsonDocument status = await StatusJsonAsync();
            return RealServer(status, a.Port).GetProperty("up").GetBoolean();
        }, Deadline, "A up again");
        Assert.True(closedAfter < TimeSpan.FromSeconds(10), $"closed {closedAfter} after the check began to fail");
    }

    [Fact]
    public async Task Status_shows_a_backup_standing_by_and_serving_once_the_primary_is_disabled()
    {
        using var a = new NamedEchoServer("A");
        using var b = new NamedEchoServer("B");
        int port = FreePort();
        var vip = new IPEndPoint(IPAddress.Loopback, port);
        await File.WriteAllTextAsync(ConfigPath, $$"""
            global_defs {
                state_file {{StatePath}}
                log_connections off
            }
            virtual_server 127.0.0.1 {{port}} {
                lb_algo rr
                real_server 127.0.0.1 {{a.Port}} {
                }
                real_server 127.0.0.1 {{b.Port}} {
                    backup
                }
            }
            """);
        await using var daemon = await DaemonProcess.StartAsync(Binary, ConfigPath, SocketPath);

        using (JsonDocument status = await StatusJsonAsync())
        {
            Assert.False(RealServer(status, a.Port).GetProperty("backup").GetBoolean());
            Assert.True(RealServer(status, b.Port).GetProperty("backup").GetBoolean());
            Assert.True(RealServer(status, b.Port).GetProperty("standing_by").GetBoolean());
        }

        Assert.Contains("up/standby", (await CliAsync("status")).Output, StringComparison.Ordinal);
        Assert.Equal(["A", "A", "A"], await WhoAnswersAsync(vip, 3));

        Assert.True((await CliAsync("server", "disable", $"127.0.0.1:{port}", $"127.0.0.1:{a.Port}")).Exit == 0);
        Assert.Equal(["B", "B", "B"], await WhoAnswersAsync(vip, 3));
        using (JsonDocument status = await StatusJsonAsync())
        {
            Assert.False(RealServer(status, b.Port).GetProperty("standing_by").GetBoolean());
        }

        Assert.Contains("up/backup", (await CliAsync("status")).Output, StringComparison.Ordinal);
    }

    private async Task<(int Exit, string Output, string Errors)> CliAsync(params string[] arguments)
    {
        var start = new ProcessStartInfo(Binary, [.. arguments, "--socket", SocketPath]) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(start)!;
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout, await stderr);
    }

    private async Task<int> LiveConnectionsToAsync(string realServer)
    {
        string reply = await ControlClient.RequestAsync(SocketPath, $"{{\"command\": \"connections\", \"real_server\": \"{realServer}\"}}", Deadline);
        using JsonDocument document = JsonDocument.Parse(reply);
        return document.RootElement.GetProperty("connections").GetArrayLength();
    }

    private async Task<JsonDocument> StatusJsonAsync() => JsonDocument.Parse(await ControlClient.RequestAsync(SocketPath, "status", Deadline));

    private static JsonElement RealServer(JsonDocument status, int port) =>
        status.RootElement.GetProperty("virtual_servers")[0].GetProperty("real_servers").EnumerateArray().Single(r => r.GetProperty("port").GetInt32() == port);

    /// <summary>Connects until the wanted server answers (the others are closed again).</summary>
    private static async Task<Socket> ConnectToAsync(IPEndPoint vip, string name)
    {
        for (int attempt = 0; attempt < 20; attempt++)
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            await socket.ConnectAsync(vip).WaitAsync(Deadline);
            if (await ReadLineAsync(socket) == name)
            {
                return socket;
            }

            socket.Dispose();
        }

        throw new InvalidOperationException($"{name} never answered");
    }

    private static async Task<List<string>> WhoAnswersAsync(IPEndPoint vip, int count)
    {
        var names = new List<string>();
        for (int i = 0; i < count; i++)
        {
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            await socket.ConnectAsync(vip).WaitAsync(Deadline);
            names.Add(await ReadLineAsync(socket) ?? "(closed)");
        }

        return names;
    }

    private static async Task<string?> EchoAsync(Socket socket, string text)
    {
        await socket.SendAsync(Encoding.ASCII.GetBytes(text + "\n"));
        return await ReadLineAsync(socket);
    }

    private static async Task<bool> IsClosedAsync(Socket socket)
    {
        try
        {
            return await ReadLineAsync(socket) is null;
        }
        catch (SocketException)
        {
            return true;
        }
    }

    private static async Task<string?> ReadLineAsync(Socket socket)
    {
        var line = new StringBuilder();
        byte[] one = new byte[1];
        using var timeout = new CancellationTokenSource(Deadline);
        while (true)
        {
            if (await socket.ReceiveAsync(one, SocketFlags.None, timeout.Token) == 0)
            {
                return line.Length == 0 ? null : line.ToString();
            }

            if (one[0] == '\n')
            {
                return line.ToString();
            }

            line.Append((char)one[0]);
        }
    }

    private static int FreePort()
    {
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)probe.LocalEndPoint!).Port;
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    /// <summary>A loopback server that sends its name on accept, then echoes.</summary>
    private sealed class NamedEchoServer : IDisposable
    {
        private readonly Socket _listener = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        private readonly CancellationTokenSource _stop = new();

        public NamedEchoServer(string announce)
        {
            _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            _listener.Listen(64);
            Port = ((IPEndPoint)_listener.LocalEndPoint!).Port;
            Name = $"127.0.0.1:{Port}";
            _ = AcceptAsync(Encoding.ASCII.GetBytes(announce + "\n"));
        }

        public int Port { get; }

        /// <summary>ADDR:PORT, as the CLI names it.</summary>
        public string Name { get; }

        private async Task AcceptAsync(byte[] announce)
        {
            while (!_stop.IsCancellationRequested)
            {
                Socket client;
                try
                {
                    client = await _listener.AcceptAsync(_stop.Token);
                }
                catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
                {
                    return;
                }

                _ = ServeAsync(client, announce);
            }
        }

        private async Task ServeAsync(Socket client, byte[] announce)
        {
            using (client)
            {
                try
                {
                    await client.SendAsync(announce);
                    byte[] buffer = new byte[4096];
                    int read;
                    while ((read = await client.ReceiveAsync(buffer, SocketFlags.None, _stop.Token)) > 0)
                    {
                        await client.SendAsync(buffer.AsMemory(0, read));
                    }
                }
                catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
                {
                }
            }
        }

        public void Dispose()
        {
            _stop.Cancel();
            _listener.Dispose();
            _stop.Dispose();
        }
    }
}

/// <summary>A <c>vipproxy run</c> process: its output lines, signals, and a clean stop.</summary>
internal sealed class DaemonProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _lines = new();

    private DaemonProcess(Process process)
    {
        _process = process;
        _process.OutputDataReceived += (_, e) => Add(e.Data);
        _process.ErrorDataReceived += (_, e) => Add(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public static async Task<DaemonProcess> StartAsync(string binary, string config, string socket)
    {
        var start = new ProcessStartInfo(binary, ["run", "-f", config, "--socket", socket, "--drain-timeout", "1"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        var daemon = new DaemonProcess(Process.Start(start)!);
        await daemon.WaitForOutputAsync("started from");
        return daemon;
    }

    public string Output => string.Join('\n', _lines);

    public async Task WaitForOutputAsync(string text)
    {
        var clock = Stopwatch.StartNew();
        while (!_lines.Any(line => line.Contains(text, StringComparison.Ordinal)))
        {
            if (_process.HasExited || clock.Elapsed > TimeSpan.FromSeconds(30))
            {
                throw new TimeoutException($"no '{text}' from the daemon (exited: {_process.HasExited}); its output:\n{Output}");
            }

            await Task.Delay(20);
        }
    }

    public void Signal(string signal) => Process.Start("kill", ["-" + signal, _process.Id.ToString(CultureInfo.InvariantCulture)])!.WaitForExit();

    public async Task StopAsync()
    {
        if (_process.HasExited)
        {
            return;
        }

        Signal("TERM");
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await _process.WaitForExitAsync(timeout.Token);
        Assert.True(_process.ExitCode == 0, Output);
    }

    private void Add(string? line)
    {
        if (line is not null)
        {
            _lines.Enqueue(line);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }
}
