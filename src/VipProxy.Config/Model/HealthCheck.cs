using System.Net;

namespace VipProxy.Config.Model;

/// <summary>Settings every checker has. Defaults are keepalived's; each may also be set on the real or virtual server.</summary>
/// <param name="ConnectIp"><c>connect_ip ADDR</c>: probe this address. Default: the real server's.</param>
/// <param name="ConnectPort"><c>connect_port PORT</c>: probe this port. Default: the real server's.</param>
/// <param name="BindTo"><c>bindto ADDR</c>: source address of probes. Default: chosen by the kernel.</param>
/// <param name="ConnectTimeout"><c>connect_timeout SECS</c>: limit for one probe. Default 5 s.</param>
/// <param name="Retry"><c>retry N</c> (formerly <c>nb_get_retry</c>): failed probes retried before the server is marked down. Default 1 (MISC_CHECK 0).</param>
/// <param name="DelayBeforeRetry"><c>delay_before_retry SECS</c>: gap between a failed probe and its retry. Default 1 s.</param>
/// <param name="Warmup"><c>warmup SECS</c>: the first probe starts after a random delay up to this. Default: <c>delay_loop</c>.</param>
/// <param name="DelayLoop"><c>delay_loop SECS</c> on the checker: its own period. Default: the virtual server's.</param>
public sealed record CheckSettings(
    IPAddress? ConnectIp,
    int? ConnectPort,
    IPAddress? BindTo,
    TimeSpan ConnectTimeout,
    int Retry,
    TimeSpan DelayBeforeRetry,
    TimeSpan Warmup,
    TimeSpan DelayLoop)
{
    /// <summary><c>rise N</c>: consecutive good probes that bring a down server up. Default 1 (keepalived has no
    /// such knob: one good probe).</summary>
    public int Rise { get; init; } = 1;
}

/// <summary>One checker of a real server.</summary>
public abstract record HealthCheck(CheckSettings Settings)
{
    /// <summary>The block keyword that declares this checker (TCP_CHECK…).</summary>
    public abstract string Keyword { get; }
}

/// <summary><c>TCP_CHECK</c>: the server is up when a TCP connection opens.</summary>
public sealed record TcpCheck(CheckSettings Settings) : HealthCheck(Settings)
{
    public override string Keyword => "TCP_CHECK";
}

/// <summary><c>HTTP_GET { url { path P; status_code N; digest MD5 } … }</c>.</summary>
/// <param name="VirtualHost"><c>virtualhost NAME</c>: Host header. Default: the connect address.</param>
public sealed record HttpGetCheck(CheckSettings Settings, ValueList<HttpUrl> Urls, string? VirtualHost) : HealthCheck(Settings)
{
    public override string Keyword => "HTTP_GET";
}

/// <summary>One <c>url { … }</c> of HTTP_GET.</summary>
/// <param name="Path"><c>path /PATH</c> (required).</param>
/// <param name="StatusCodes"><c>status_code N</c> (repeatable, ranges N-M allowed). Default: any 2xx.</param>
/// <param name="Digest"><c>digest HEX</c>: MD5 of the body, lower-case hex. Default: not checked.</param>
public sealed record HttpUrl(string Path, ValueList<StatusCodeRange> StatusCodes, string? Digest);

public sealed record StatusCodeRange(int From, int To)
{
    public bool Contains(int code) => code >= From && code <= To;

    public override string ToString() => From == To ? $"{From}" : $"{From}-{To}";
}

/// <summary><c>MISC_CHECK { misc_path "CMD"; misc_timeout SECS; user USER }</c>: the server is up when the command exits 0.</summary>
/// <param name="MiscTimeout"><c>misc_timeout SECS</c>. Default: the virtual server's delay_loop.</param>
/// <param name="Dynamic"><c>misc_dynamic</c>: exit codes 2–255 set the weight to code − 2.</param>
public sealed record MiscCheck(CheckSettings Settings, ScriptCommand Path, TimeSpan MiscTimeout, bool Dynamic, ScriptAccount? User) : HealthCheck(Settings)
{
    public override string Keyword => "MISC_CHECK";
}

/// <summary>
/// VipProxy <c>MYSQL_CHECK { user U; password P; … }</c>: reads the greeting, logs in (mysql_native_password or
/// caching_sha2_password), sends COM_PING and COM_QUIT, so each probe is a clean session that never counts in
/// <c>Aborted_connects</c> or towards <c>max_connect_errors</c>. Without <c>user</c> only the greeting is read.
/// </summary>
/// <param name="Database"><c>database NAME</c>: schema to select at login. Default: none.</param>
/// <remarks>The optional role keywords each add a query after the login (instead of COM_PING); all must pass.</remarks>
public sealed record MySqlCheck(CheckSettings Settings, string? User, string? Password, string? Database) : HealthCheck(Settings)
{
    public override string Keyword => "MYSQL_CHECK";

    /// <summary><c>role primary|replica|any</c>: which value of <c>@@read_only</c> (and <c>@@super_read_only</c>)
    /// counts as up. Default any (not queried).</summary>
    public MySqlRole Role { get; init; } = MySqlRole.Any;

    /// <summary><c>max_replication_lag SECS</c>: down when the replica's <c>Seconds_Behind_Master</c> is above
    /// this, or NULL (replication stopped). Default: not queried.</summary>
    public int? MaxReplicationLag { get; init; }

    /// <summary><c>lag_weight on</c>: with <see cref="MaxReplicationLag"/>, a lagging replica stays up with its weight
    /// scaled down by the lag (100 % at 0 s, 1/(max+1) at max), and at weight 0 (no new connections) above max,
    /// instead of going down. NULL lag (replication stopped) is still down.</summary>
    public bool LagWeight { get; init; }

    /// <summary><c>galera on</c>: up only while <c>wsrep_ready</c> is ON and <c>wsrep_local_state</c> is 4 (Synced).</summary>
    public bool Galera { get; init; }

    /// <summary><c>galera_donor_ok on</c>: with <see cref="Galera"/>, state 2 (Donor/Desynced) is up too.</summary>
    public bool GaleraDonorOk { get; init; }

    /// <summary><c>query "SQL"</c>: a statement whose first column of the first row is compared.</summary>
    public string? Query { get; init; }

    /// <summary><c>expect "TEXT"</c>: the exact value the query must return.</summary>
    public string? Expect { get; init; }

    /// <summary><c>expect_regex "RE"</c>: a .NET regular expression the query's value must match (unanchored).</summary>
    public string? ExpectRegex { get; init; }

    /// <summary>True when only today's login and COM_PING run: no keyword asks the server anything.</summary>
    public bool IsPingOnly => Role == MySqlRole.Any && MaxReplicationLag is null && !Galera && Query is null;
}

/// <summary>The role a MYSQL_CHECK requires of the server.</summary>
public enum MySqlRole
{
    /// <summary>Either; read_only is not queried.</summary>
    Any,
    /// <summary>Writable: <c>read_only</c> and <c>super_read_only</c> OFF.</summary>
    Primary,
    /// <summary>Read-only: <c>read_only</c> ON.</summary>
    Replica,
}
