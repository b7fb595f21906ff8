using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using VipProxy.Config.Model;
using VipProxy.HealthChecks.Decisions;
using VipProxy.HealthChecks.Monitoring;
using VipProxy.HealthChecks.Probes;
using VipProxy.HealthChecks.Probes.MySql;
using VipProxy.HealthChecks.Scripts;
using VipProxy.HealthChecks.Tests.Support;
using VipProxy.TestServers;

namespace VipProxy.HealthChecks.Tests.MySql;

/// <summary>
/// Issue 7: a real server that accepts TCP but never answers (a black hole: a hung mysqld, a stuck proxy, a full
/// thread pool) must be taken down by MYSQL_CHECK's timeout, never waited on. Two kinds: no greeting at all, and a
/// greeting followed by silence once the login is sent. Real sockets, real clock; bounds are the keepalived
/// formula plus a margin for a loaded 2-core machine.
/// </summary>
[Collection(TimingCollection.Name)]
public sealed class BlackholeTests
{
    private const double ConnectTimeout = 0.5;
    private const int Retry = 1;
    private const double DelayBeforeRetry = 0.2;
    private static readonly TimeSpan Margin = TimeSpan.FromSeconds(1);

    /// <summary>connect_timeout × (retry + 1) + delay_before_retry × retry: every attempt times out, in a row.</summary>
    private static readonly TimeSpan DetectionBound = TimeSpan.FromSeconds((ConnectTimeout * (Retry + 1)) + (DelayBeforeRetry * Retry));

    [Fact]
    public async Task Server_that_accepts_but_never_greets_is_down_by_connect_timeout_promptly()
    {
        await using var blackhole = new SilentTcpServer();
        var probe = new MySqlProbe(Settings.Target(blackhole.EndPoint, timeoutSeconds: 0.5),
            new MySqlCheck(Settings.Check(), "u", "p", null));
        var watch = Stopwatch.StartNew();

        ProbeResult result = await probe.ProbeAsync(CancellationToken.None);

        Assert.False(result.IsUp);
        Assert.Equal("timed out after 0.5 s while reading the greeting", result.Reason);
        Assert.InRange(watch.Elapsed, TimeSpan.FromSeconds(0.45), TimeSpan.FromSeconds(1.5));
        Assert.Equal(1, blackhole.AcceptedCount);
    }

    [Fact]
    public async Task Server_that_greets_then_never_answers_the_login_is_down_by_the_same_deadline()
    {
        await using var hung = new GreetThenHangServer();
        var probe = new MySqlProbe(Settings.Target(hung.EndPoint, timeoutSeconds: 0.5),
            new MySqlCheck(Settings.Check(), "monitor", "p", null));
        var watch = Stopwatch.StartNew();

        ProbeResult result = await probe.ProbeAsync(CancellationToken.None);

        // One deadline covers connect and the whole exchange: a greeting does not buy the server more time.
        Assert.False(result.IsUp);
        Assert.Equal("timed out after 0.5 s while logging in as 'monitor'", result.Reason);
        Assert.InRange(watch.Elapsed, TimeSpan.FromSeconds(0.45), TimeSpan.FromSeconds(1.5));
        Assert.Equal(1, hung.LoginsReceived);
    }

    [Theory]
    [InlineData(false, "reading the greeting")]
    [InlineData(true, "logging in as 'monitor'")]
    public async Task A_monitored_black_hole_goes_down_within_connect_timeout_times_retry_plus_one_and_stays_down(bool greets, string step)
    {
        await using var silent = greets ? null : new SilentTcpServer();
        await using var hung = greets ? new GreetThenHangServer() : null;
        var endpoint = silent?.EndPoint ?? hung!.EndPoint;
        var check = Settings.Check(connectTimeout: ConnectTimeout, retry: Retry, delayBeforeRetry: DelayBeforeRetry, delayLoop: 1);
        var probe = new MySqlProbe(Settings.Target(endpoint, timeoutSeconds: ConnectTimeout), new MySqlCheck(check, "monitor", "p", null));
        var timing = new CheckTiming(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(ConnectTimeout), Retry, TimeSpan.FromSeconds(DelayBeforeRetry), TimeSpan.Zero);
        var server = new RealServer(endpoint, 1, false, null, null, null, ValueList<HealthCheck>.Empty);
        var scripts = new ScriptRunner(new ScriptSettings(new ScriptAccount("root", null), false));
        await using var monitor = new RealServerMonitor(server, [(probe, timing)], alpha: false, scripts,
            new HealthMonitorOptions { TimeProvider = TimeProvider.System, Random = new Random(7) });
        var watch = Stopwatch.StartNew();
        Assert.True(monitor.Status.IsUp); // keepalived without alpha: up until the checks say otherwise

        monitor.Start();
        await Eventually.TrueAsync(() => !monitor.Status.IsUp, DetectionBound + Margin, "black hole reported down");
        var down = watch.Elapsed;
        var status = monitor.Status;

        Assert.Equal($"timed out after {ConnectTimeout} s while {step}", status.Reason);
        Assert.Equal(Retry + 1, status.Checkers[0].ConsecutiveFailures);
        Assert.InRange(down, TimeSpan.FromSeconds(ConnectTimeout * (Retry + 1)), DetectionBound + Margin);

        // Still down a few checks later, and each check gave up on its own connection.
        await Task.Delay(TimeSpan.FromSeconds(2.5));
        Assert.False(monitor.Status.IsUp);
        int accepted = silent?.AcceptedCount ?? hung!.Accepted;
        Assert.InRange(accepted, Retry + 2, 10);
    }

    /// <summary>A MySQL server that greets every connection, reads the login, and never answers it.</summary>
    private sealed class GreetThenHangServer : IAsyncDisposable
    {
        private static readonly byte[] Scramble = [.. Enumerable.Range(1, 20).Select(i => (byte)i)];
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly List<Socket> _sockets = [];
        private readonly Task _loop;
        private int _accepted;
        private int _logins;

        public GreetThenHangServer()
        {
            _listener.Start();
            _loop = Task.Run(AcceptAsync);
        }

        public IPEndPoint EndPoint => (IPEndPoint)_listener.LocalEndpoint;

        public int Accepted => Volatile.Read(ref _accepted);

        public int LoginsReceived => Volatile.Read(ref _logins);

        public async ValueTask DisposeAsync()
        {
            _listener.Stop();
            await Task.WhenAny(_loop, Task.Delay(TimeSpan.FromSeconds(5)));
            lock (_sockets)
            {
                foreach (var socket in _sockets)
                {
                    socket.Dispose();
                }
            }
        }

        private async Task AcceptAsync()
        {
            try
            {
                while (true)
                {
                    var socket = await _listener.AcceptSocketAsync();
                    lock (_sockets)
                    {
                        _sockets.Add(socket);
                    }

                    Interlocked.Increment(ref _accepted);
                    _ = Task.Run(async () =>
                    {
                        var connection = new FakeMySqlServer.Connection(socket);
                        try
                        {
                            await connection.SendAsync(0, FakeMySqlServer.Greeting(Scramble, "mysql_native_password"));
                            await connection.ReadAsync();
                            Interlocked.Increment(ref _logins);
                        }
                        catch (Exception e) when (e is SocketException or ObjectDisposedException or EndOfStreamException)
                        {
                            // The probe gave up: what it reports is the test's subject.
                        }
                    });
                }
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                // Stopped.
            }
        }
    }
}
