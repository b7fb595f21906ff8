using System.Diagnostics;
using System.Globalization;
using System.Net;

namespace VipProxy.Lab;

/// <summary>
/// A private MariaDB server for tests (Debian's mariadbd; the tests run as root): its own temporary data directory
/// made by mariadb-install-db, its own socket and pid file, listening on a loopback address and a free port, or
/// inside a test LAN host. SQL runs as root through the <c>mariadb</c> client over the socket, so setting the server
/// up never touches TCP (a TCP connect-and-close would itself count in <c>Aborted_connects</c>).
/// </summary>
/// <remarks>
/// Tuned to start in about a second: no binary log, a 16 MiB buffer pool, a 4 MiB redo log, no performance schema.
/// Starting fails loudly (with the server's output) rather than letting a test skip. Disposing kills the server and
/// deletes its directory.
/// </remarks>
public sealed class MariaDbServer : IAsyncDisposable
{
    public const string ServerProgram = "mariadbd";
    public const string ClientProgram = "mariadb";
    public const string InstallProgram = "mariadb-install-db";

    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(30);
    private const int PortAttempts = 4;

    private readonly LanHost? _host;
    private readonly Action<string> _log;
    private readonly bool _choosePort;
    private readonly string[] _extraArguments;
    private IServerProcess? _process;

    private MariaDbServer(string directory, IPAddress address, int port, LanHost? host, Action<string> log, string[] extraArguments)
    {
        Directory = directory;
        Address = address;
        Port = port;
        _host = host;
        _log = log;
        _choosePort = port == 0;
        _extraArguments = extraArguments;
    }

    /// <summary>The server's own directory: data, socket, pid file.</summary>
    public string Directory { get; }

    public string DataDirectory => Path.Combine(Directory, "data");

    public string SocketPath => Path.Combine(Directory, "mysqld.sock");

    public string PidFile => Path.Combine(Directory, "mysqld.pid");

    public IPAddress Address { get; }

    public int Port { get; private set; }

    public IPEndPoint EndPoint => new(Address, Port);

    public bool IsRunning => _process is { HasExited: false };

    /// <summary>What the server printed (its error log).</summary>
    public IReadOnlyList<string> ServerOutput => _process?.OutputLines ?? [];

    /// <summary>Starts a server on <paramref name="address"/> (default 127.0.0.1) and a free port.</summary>
    public static Task<MariaDbServer> StartAsync(Action<string>? log = null, IPAddress? address = null) =>
        CreateAndStartAsync(address ?? IPAddress.Loopback, 0, null, log);

    /// <summary>Starts a server inside a test LAN host, on its address.</summary>
    public static Task<MariaDbServer> StartAsync(LanHost host, int port = 3306, Action<string>? log = null)
    {
        ArgumentNullException.ThrowIfNull(host);
        return CreateAndStartAsync(host.Address, port, host, log);
    }

    /// <summary>
    /// Starts a server inside a test LAN host with extra <c>mariadbd</c> options, e.g. <c>--extra-port=9066</c>
    /// (a second TCP port served by the same server) or <c>--server-id=2</c>.
    /// </summary>
    public static Task<MariaDbServer> StartAsync(LanHost host, int port, IReadOnlyList<string> extraServerArguments, Action<string>? log = null)
    {
        ArgumentNullException.ThrowIfNull(host);
        ArgumentNullException.ThrowIfNull(extraServerArguments);
        return CreateAndStartAsync(host.Address, port, host, log, [.. extraServerArguments]);
    }

    private static async Task<MariaDbServer> CreateAndStartAsync(IPAddress address, int port, LanHost? host, Action<string>? log, string[]? extraArguments = null)
    {
        string directory = System.IO.Directory.CreateTempSubdirectory("vipproxy-mariadb-").FullName;
        var server = new MariaDbServer(directory, address, port, host, log ?? (_ => { }), extraArguments ?? []);
        try
        {
            await server.InstallAsync().ConfigureAwait(false);
            await server.StartAgainAsync().ConfigureAwait(false);
            return server;
        }
        catch
        {
            await server.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Starts the server again after <see cref="StopAsync"/> or <see cref="KillAsync"/>, on the same port.</summary>
    public async Task StartAgainAsync()
    {
        if (IsRunning)
        {
            throw new InvalidOperationException("MariaDB is already running");
        }

        for (int attempt = 1; ; attempt++)
        {
            if (_choosePort && (Port == 0 || attempt > 1))
            {
                Port = FreeTcpPort.On(Address);
            }

            if (_process is not null)
            {
                await _process.DisposeAsync().ConfigureAwait(false);
            }

            _process = Launch();
            try
            {
                await WaitUntilReadyAsync().ConfigureAwait(false);
                _log($"MariaDB ready on {EndPoint} (socket {SocketPath})");
                return;
            }
            catch (InvalidOperationException) when (_choosePort && attempt < PortAttempts && LostPortRace())
            {
                _log($"port {Port} was taken meanwhile; retrying on another");
            }
        }
    }

    /// <summary>Shuts the server down cleanly (mariadb-admin shutdown) and waits for it to exit.</summary>
    public async Task StopAsync()
    {
        if (!IsRunning)
        {
            return;
        }

        await RunClientAsync("mariadb-admin", ["shutdown"]).ConfigureAwait(false);
        if (!await _process!.WaitForExitAsync(TimeSpan.FromSeconds(30)).ConfigureAwait(false))
        {
            throw new TimeoutException("MariaDB did not exit after shutdown");
        }
    }

    /// <summary>SIGKILL: a crash, as far as clients can tell.</summary>
    public async Task KillAsync()
    {
        if (_process is null)
        {
            return;
        }

        _process.Kill();
        await _process.WaitForExitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
    }

    /// <summary>Runs SQL as root over the socket; returns the tab-separated rows without headers.</summary>
    public async Task<string> ExecuteSqlAsync(string sql)
    {
        CommandResult result = await RunClientAsync(ClientProgram, ["--batch", "--skip-column-names", "-e", sql]).ConfigureAwait(false);
        return result.StandardOutput.TrimEnd('\n');
    }

    /// <summary>A numeric <c>SHOW GLOBAL STATUS</c> value, e.g. <c>Aborted_connects</c>.</summary>
    public async Task<long> GetGlobalStatusAsync(string name)
    {
        string row = await ExecuteSqlAsync($"SHOW GLOBAL STATUS LIKE '{Escape(name)}'").ConfigureAwait(false);
        string[] columns = row.Split('\t');
        return columns.Length == 2
            ? long.Parse(columns[1], CultureInfo.InvariantCulture)
            : throw new InvalidOperationException($"no global status '{name}': '{row}'");
    }

    /// <summary>Creates (or replaces) a user identified by mysql_native_password.</summary>
    public Task CreateUserAsync(string user, string password, string host = "%") =>
        ExecuteSqlAsync(
            $"CREATE OR REPLACE USER '{Escape(user)}'@'{Escape(host)}' IDENTIFIED VIA mysql_native_password USING PASSWORD('{Escape(password)}'); " +
            $"GRANT USAGE ON *.* TO '{Escape(user)}'@'{Escape(host)}';");

    public async ValueTask DisposeAsync()
    {
        if (_process is not null)
        {
            await _process.DisposeAsync().ConfigureAwait(false);
        }

        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException e)
        {
            _log($"cannot delete {Directory}: {e.Message}");
        }
    }

    /// <summary>Escapes a value for a single-quoted SQL string.</summary>
    public static string Escape(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        return value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("'", "''", StringComparison.Ordinal);
    }

    private async Task InstallAsync()
    {
        var watch = Stopwatch.StartNew();
        CommandResult result = await CommandLine.RunAsync(InstallProgram,
            [
                "--no-defaults", $"--datadir={DataDirectory}", "--user=root", "--auth-root-authentication-method=normal",
                "--skip-test-db", "--skip-name-resolve", TmpDirOption, .. StorageOptions,
            ], StartTimeout).ConfigureAwait(false);
        if (!result.Succeeded)
        {
            throw new InvalidOperationException($"{InstallProgram} failed ({result.ExitCode}): {result}");
        }

        _log($"MariaDB data directory {DataDirectory} initialised in {watch.ElapsedMilliseconds} ms");

        if (_extraArguments.Contains("--wsrep-sst-method=rsync", StringComparer.Ordinal))
        {
            // Galera's rsync state transfer runs an rsync daemon on the joiner, which (started by root, with no uid in
            // the rsyncd.conf that wsrep_sst_rsync writes) switches to "nobody" and must write into this server's
            // private directory (mode 0700): open it to that user. Test servers only; the server itself runs as root.
            CommandResult opened = await CommandLine.RunAsync("chmod", ["-R", "a+rwX", Directory], CommandTimeout).ConfigureAwait(false);
            if (!opened.Succeeded)
            {
                throw new InvalidOperationException($"chmod for rsync state transfer failed: {opened}");
            }
        }
    }

    /// <summary>Small and fast storage: tests start several servers.</summary>
    private static readonly string[] StorageOptions =
        ["--innodb-buffer-pool-size=16M", "--innodb-log-file-size=4M", "--innodb-data-file-path=ibdata1:4M:autoextend"];

    // Each server's own temporary directory: two servers initialised at once in a shared /tmp collide on the
    // names of their temporary tables (seen as ERROR 1051 on mysql.tmp_user_sys during mariadb-install-db).
    private string TmpDirOption => $"--tmpdir={Directory}";

    private IServerProcess Launch()
    {
        string[] arguments =
        [
            "--no-defaults", $"--datadir={DataDirectory}", "--user=root",
            $"--bind-address={Address}", $"--port={Port}", $"--socket={SocketPath}", $"--pid-file={PidFile}",
            "--skip-name-resolve", "--skip-log-bin", "--performance-schema=OFF", "--skip-symbolic-links", TmpDirOption,
            .. StorageOptions, .. _extraArguments,
        ];
        return _host is null
            ? new LocalServerProcess(ServerProgram, arguments, _log)
            : new LanServerProcess(_host.Start(ServerProgram, arguments));
    }

    private async Task WaitUntilReadyAsync()
    {
        var watch = Stopwatch.StartNew();
        while (true)
        {
            if (_process!.HasExited)
            {
                throw new InvalidOperationException(
                    $"MariaDB exited while starting:{Environment.NewLine}{string.Join(Environment.NewLine, ServerOutput.TakeLast(15))}");
            }

            // A login over the socket: a clean session, unlike polling the TCP port.
            if (File.Exists(SocketPath))
            {
                CommandResult ping = await RunClientRawAsync(ClientProgram, ["-e", "SELECT 1"]).ConfigureAwait(false);
                if (ping.Succeeded)
                {
                    return;
                }
            }

            if (watch.Elapsed > StartTimeout)
            {
                throw new TimeoutException($"MariaDB not ready after {StartTimeout}: {string.Join(" | ", ServerOutput.TakeLast(10))}");
            }

            await Task.Delay(50).ConfigureAwait(false);
        }
    }

    private bool LostPortRace() =>
        ServerOutput.Any(line => line.Contains("Address already in use", StringComparison.Ordinal)
            || line.Contains("error: 98", StringComparison.Ordinal));

    private async Task<CommandResult> RunClientAsync(string program, string[] arguments)
    {
        CommandResult result = await RunClientRawAsync(program, arguments).ConfigureAwait(false);
        if (!result.Succeeded)
        {
            throw new InvalidOperationException($"{program} {string.Join(' ', arguments)} failed ({result.ExitCode}): {result}");
        }

        return result;
    }

    private Task<CommandResult> RunClientRawAsync(string program, string[] arguments)
    {
        string[] all = ["--no-defaults", $"--socket={SocketPath}", "--user=root", .. arguments];
        return _host is null
            ? CommandLine.RunAsync(program, all, CommandTimeout)
            : _host.RunAsync(program, all, CommandTimeout);
    }
}
