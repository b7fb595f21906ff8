using System.Net;
using System.Text.RegularExpressions;
using VipProxy.Config.Diagnostics;
using VipProxy.Config.Model;
using VipProxy.Config.Syntax;

namespace VipProxy.Config.Binding;

/// <summary>TCP_CHECK, HTTP_GET, MISC_CHECK and MYSQL_CHECK blocks inside a real_server.</summary>
internal static class CheckerBinder
{
    public sealed class Builder(string keyword, SourceLocation location)
    {
        public string Keyword { get; } = keyword;
        public SourceLocation Location { get; } = location;
        public CheckTimingOverrides Timing { get; } = new();
        public IPAddress? ConnectIp;
        public int? ConnectPort;
        public IPAddress? BindTo;
        public List<HttpUrl> Urls = [];
        public List<(string Host, SourceLocation At)?> UrlHosts = [];
        public string? VirtualHost;
        public ScriptCommand? MiscPath;
        public TimeSpan? MiscTimeout;
        public bool MiscDynamic;
        public ScriptAccount? User;
        public string? MySqlUser;
        public string? MySqlPassword;
        public string? Database;
        public MySqlRole Role = MySqlRole.Any;
        public int? MaxReplicationLag;
        public bool Galera;
        public bool GaleraDonorOk;
        public bool LagWeight;
        public SourceLocation? LagWeightLocation;
        public string? Query;
        public Token? Expect;
        public Token? ExpectRegex;
        public SourceLocation? FirstRoleKeyword;
        public SourceLocation? DonorOkLocation;
        public (bool On, SourceLocation At)? Alpha;

        public HealthCheck? Build(CheckTimingOverrides inherited, string? virtualHost, BindContext context)
        {
            CheckTimingOverrides timing = Timing.Over(inherited);
            TimeSpan delayLoop = timing.DelayLoop ?? TimeSpan.FromSeconds(60);
            var settings = new CheckSettings(
                ConnectIp, ConnectPort, BindTo,
                ConnectTimeout: timing.ConnectTimeout ?? TimeSpan.FromSeconds(5),
                Retry: timing.Retry ?? (Keyword == "MISC_CHECK" ? 0 : 1),
                DelayBeforeRetry: timing.DelayBeforeRetry ?? TimeSpan.FromSeconds(1),
                Warmup: timing.Warmup ?? delayLoop,
                DelayLoop: delayLoop)
            {
                Rise = timing.Rise ?? 1,
            };
            switch (Keyword)
            {
                case "TCP_CHECK":
                    return new TcpCheck(settings);
                case "HTTP_GET":
                    if (Urls.Count == 0)
                    {
                        context.Error(Location, "HTTP_GET has no 'url { path /PATH }': it would check nothing");
                        return null;
                    }

                    return HostOfUrls(VirtualHost ?? virtualHost, context, out string? host) ? new HttpGetCheck(settings, new(Urls), host) : null;
                case "MISC_CHECK":
                    if (MiscPath is null)
                    {
                        context.Error(Location, "MISC_CHECK has no 'misc_path \"/path/to/check ARGS\"'");
                        return null;
                    }
                    // For a script the time limit of one probe is misc_timeout: it takes the place of connect_timeout.
                    TimeSpan miscTimeout = MiscTimeout ?? delayLoop;
                    return new MiscCheck(settings with { ConnectTimeout = miscTimeout }, MiscPath, miscTimeout, MiscDynamic, User);
                default:
                    if (MySqlUser is null)
                    {
                        context.Warning(Location, "MYSQL_CHECK without 'user': each probe reads the greeting and hangs up, which MySQL counts in Aborted_connects and towards max_connect_errors host blocking; give it 'user' and 'password' of an account allowed from this host");
                    }
                    else if (MySqlPassword is null)
                    {
                        context.Warning(Location, "MYSQL_CHECK has 'user' but no 'password': it logs in with an empty password");
                    }

                    return BuildMySql(settings, context);
            }
        }

        // keepalived lets each url carry its own virtualhost; the model has one Host per HTTP_GET, which is enough when
        // every url of the check asks for the same one.
        private bool HostOfUrls(string? inherited, BindContext context, out string? host)
        {
            host = UrlHosts[0]?.Host ?? inherited;
            foreach ((string Host, SourceLocation At)? urlHost in UrlHosts.Skip(1))
            {
                string? other = urlHost?.Host ?? inherited;
                if (other != host)
                {
                    context.Error(urlHost?.At ?? Location, $"the urls of this HTTP_GET ask for different virtualhosts ('{host}' and '{other}'), which VipProxy does not support: "
                        + "one HTTP_GET sends one Host header; write one HTTP_GET per virtualhost");
                    return false;
                }
            }

            return true;
        }

        private MySqlCheck? BuildMySql(CheckSettings settings, BindContext context)
        {
            bool ok = true;
            if (MySqlUser is null && FirstRoleKeyword is { } roleAt)
            {
                context.Error(roleAt, "this MYSQL_CHECK keyword runs a query, which needs a login: give the check 'user' and 'password'");
                ok = false;
            }

            if (Query is null)
            {
                foreach (Token expectation in new[] { Expect, ExpectRegex }.Where(t => t.HasValue).Select(t => t!.Value))
                {
                    context.Error(expectation.Location, "'expect' and 'expect_regex' compare the result of 'query \"SQL\"', but this MYSQL_CHECK has no 'query'");
                    ok = false;
                }
            }

            if (Expect is not null && ExpectRegex is not null)
            {
                context.Error(ExpectRegex.Value.Location, "give either 'expect' or 'expect_regex', not both");
                ok = false;
            }

            if (LagWeight && MaxReplicationLag is null && LagWeightLocation is { } lagWeightAt)
            {
                context.Error(lagWeightAt, "'lag_weight on' scales the weight by the replication lag up to 'max_replication_lag SECONDS', which this MYSQL_CHECK does not have");
                ok = false;
            }

            if (GaleraDonorOk && !Galera && DonorOkLocation is { } donorAt)
            {
                context.Warning(donorAt, "'galera_donor_ok on' has no effect without 'galera on'");
            }

            return ok
                ? new MySqlCheck(settings, MySqlUser, MySqlPassword, Database)
                {
                    Role = Role,
                    MaxReplicationLag = MaxReplicationLag,
                    Galera = Galera,
                    GaleraDonorOk = GaleraDonorOk,
                    LagWeight = LagWeight,
                    Query = Query,
                    Expect = Expect?.Text,
                    ExpectRegex = ExpectRegex?.Text,
                }
                : null;
        }
    }

    private static readonly Dictionary<string, MySqlRole> Roles = new(StringComparer.Ordinal)
    {
        ["primary"] = MySqlRole.Primary,
        ["replica"] = MySqlRole.Replica,
        ["any"] = MySqlRole.Any,
    };

    private static readonly Dictionary<string, bool> OnOff = new(StringComparer.Ordinal) { ["on"] = true, ["off"] = false };

    public static readonly KeywordTable<Builder> Tcp = Connecting("TCP_CHECK");

    public static readonly KeywordTable<Builder> Http = CreateHttp();

    public static readonly KeywordTable<Builder> Misc = CreateMisc();

    public static readonly KeywordTable<Builder> MySql = CreateMySql();

    public static KeywordTable<Builder> For(string keyword) => keyword switch
    {
        "TCP_CHECK" => Tcp,
        "HTTP_GET" => Http,
        "MISC_CHECK" => Misc,
        _ => MySql,
    };

    private static KeywordTable<Builder> Connecting(string name)
    {
        var table = new KeywordTable<Builder>(name)
        {
            { "connect_ip", (b, s, c) => { if (c.Arguments(s, 1, 1, "connect_ip ADDRESS") && c.IPv4(s.Arguments[0], s.Name, out var v)) { b.ConnectIp = v; } } },
            { "connect_port", (b, s, c) => { if (c.Arguments(s, 1, 1, "connect_port PORT") && c.Port(s.Arguments[0], s.Name, out int v)) { b.ConnectPort = v; } } },
            { "bindto", (b, s, c) => { if (c.Arguments(s, 1, 1, "bindto ADDRESS") && c.IPv4(s.Arguments[0], s.Name, out var v)) { b.BindTo = v; } } },
        };
        AddAlpha(table);
        CheckTimingOverrides.AddTo(table, b => b.Timing);
        return table;
    }

    // Read here, judged by the real server against its virtual_server's alpha (VirtualServerBinder.CheckAlpha).
    private static void AddAlpha(KeywordTable<Builder> table) =>
        table.Add("alpha", (b, s, c) =>
        {
            if (c.Flag(s, table.BlockName, out bool on))
            {
                b.Alpha = (on, s.Location);
            }
        });

    private static KeywordTable<Builder> CreateHttp()
    {
        KeywordTable<Builder> table = Connecting("HTTP_GET");
        table.Add("url", BindUrl, BlockUse.Required, repeatable: true);
        table.Add("virtualhost", (b, s, c) => { if (c.Arguments(s, 1, 1, "virtualhost NAME")) { b.VirtualHost = s.Arguments[0].Text; } });
        return table;
    }

    private static KeywordTable<Builder> CreateMisc()
    {
        var table = new KeywordTable<Builder>("MISC_CHECK")
        {
            { "misc_path", (b, s, c) => { if (c.Script(s, out var v)) { b.MiscPath = v; } } },
            { "misc_timeout", (b, s, c) => { if (c.Arguments(s, 1, 1, "misc_timeout SECONDS") && c.Seconds(s.Arguments[0], s.Name, 0.001, 86_400, out var v)) { b.MiscTimeout = v; } } },
            { "misc_dynamic", (b, on) => b.MiscDynamic = on },
            { "user", (b, s, c) => { if (c.Account(s, out var v)) { b.User = v; } } },
        };
        AddAlpha(table);
        CheckTimingOverrides.AddTo(table, b => b.Timing, withConnectTimeout: false);
        return table;
    }

    private static KeywordTable<Builder> CreateMySql()
    {
        KeywordTable<Builder> table = Connecting("MYSQL_CHECK");
        table.Add("user", (b, s, c) => { if (c.Arguments(s, 1, 1, "user NAME")) { b.MySqlUser = s.Arguments[0].Text; } });
        table.Add("password", (b, s, c) => { if (c.Arguments(s, 1, 1, "password SECRET")) { b.MySqlPassword = s.Arguments[0].Text; } });
        table.Add("database", (b, s, c) => { if (c.Arguments(s, 1, 1, "database NAME")) { b.Database = s.Arguments[0].Text; } });
        table.Add("role", (b, s, c) =>
        {
            b.FirstRoleKeyword ??= s.Location;
            if (c.Arguments(s, 1, 1, "role primary|replica|any") && c.Choice(s.Arguments[0], s.Name, Roles, out MySqlRole v))
            {
                b.Role = v;
            }
        });
        table.Add("max_replication_lag", (b, s, c) =>
        {
            b.FirstRoleKeyword ??= s.Location;
            if (c.Arguments(s, 1, 1, "max_replication_lag SECONDS") && c.Integer(s.Arguments[0], s.Name, 0, 31_536_000, out int v))
            {
                b.MaxReplicationLag = v;
            }
        });
        table.Add("lag_weight", (b, s, c) =>
        {
            b.LagWeightLocation = s.Location;
            if (c.Arguments(s, 1, 1, "lag_weight on|off") && c.Choice(s.Arguments[0], s.Name, OnOff, out bool v))
            {
                b.LagWeight = v;
            }
        });
        table.Add("galera", (b, s, c) =>
        {
            b.FirstRoleKeyword ??= s.Location;
            if (c.Arguments(s, 1, 1, "galera on|off") && c.Choice(s.Arguments[0], s.Name, OnOff, out bool v))
            {
                b.Galera = v;
            }
        });
        table.Add("galera_donor_ok", (b, s, c) =>
        {
            b.DonorOkLocation = s.Location;
            if (c.Arguments(s, 1, 1, "galera_donor_ok on|off") && c.Choice(s.Arguments[0], s.Name, OnOff, out bool v))
            {
                b.GaleraDonorOk = v;
            }
        });
        table.Add("query", (b, s, c) =>
        {
            b.FirstRoleKeyword ??= s.Location;
            if (c.Arguments(s, 1, 1, "query \"SQL\""))
            {
                if (string.IsNullOrWhiteSpace(s.Arguments[0].Text))
                {
                    c.Error(s.Arguments[0].Location, "'query' is empty");
                    return;
                }

                b.Query = s.Arguments[0].Text;
            }
        });
        table.Add("expect", (b, s, c) => { if (c.Arguments(s, 1, 1, "expect \"TEXT\"")) { b.Expect = s.Arguments[0] with { Location = s.Location }; } });
        table.Add("expect_regex", (b, s, c) =>
        {
            if (!c.Arguments(s, 1, 1, "expect_regex \"REGEX\""))
            {
                return;
            }

            try
            {
                _ = new Regex(s.Arguments[0].Text, RegexOptions.CultureInvariant);
                // Mistakes of the pair (no query, both given) point at the keyword, not at its value.
                b.ExpectRegex = s.Arguments[0] with { Location = s.Location };
            }
            catch (ArgumentException e)
            {
                c.Error(s.Arguments[0].Location, $"'expect_regex' is not a valid regular expression: {e.Message}");
            }
        });
        return table;
    }

    private sealed class UrlBuilder
    {
        public string? Path;
        public List<StatusCodeRange> StatusCodes = [];
        public string? Digest;
        public (string Host, SourceLocation At)? VirtualHost;
    }

    private static readonly KeywordTable<UrlBuilder> UrlTable = new("url")
    {
        { "path", (u, s, c) => { if (c.Arguments(s, 1, 1, "path /PATH")) { u.Path = s.Arguments[0].Text; } } },
        { "status_code", BindStatusCode, BlockUse.None, true },
        { "digest", BindDigest },
        { "virtualhost", (u, s, c) => { if (c.Arguments(s, 1, 1, "virtualhost NAME")) { u.VirtualHost = (s.Arguments[0].Text, s.Location); } } },
    };

    private static void BindUrl(Builder builder, Statement statement, BindContext context)
    {
        context.Arguments(statement, 0, 0, "url { path /PATH }");
        var url = new UrlBuilder();
        UrlTable.Bind(url, statement.Block!.Statements, context);
        if (url.Path is null)
        {
            context.Error(statement.Location, "url has no 'path /PATH'");
            return;
        }

        if (!url.Path.StartsWith('/'))
        {
            context.Warning(statement.Location, $"url path '{url.Path}' does not start with '/'");
        }

        ValueList<StatusCodeRange> codes = url.StatusCodes.Count == 0 ? new([new StatusCodeRange(200, 299)]) : new(url.StatusCodes);
        builder.Urls.Add(new HttpUrl(url.Path, codes, url.Digest));
        builder.UrlHosts.Add(url.VirtualHost);
    }

    private static void BindStatusCode(UrlBuilder url, Statement statement, BindContext context)
    {
        if (!context.Arguments(statement, 1, int.MaxValue, "status_code CODE [CODE-CODE …]"))
        {
            return;
        }

        foreach (Token code in statement.Arguments)
        {
            string[] parts = code.Text.Split('-', 2);
            if (context.Integer(code with { Text = parts[0] }, "status_code", 100, 599, out int from))
            {
                int to = from;
                if (parts.Length == 2 && !context.Integer(code with { Text = parts[1] }, "status_code", from, 599, out to))
                {
                    continue;
                }

                url.StatusCodes.Add(new StatusCodeRange(from, to));
            }
        }
    }

    private static void BindDigest(UrlBuilder url, Statement statement, BindContext context)
    {
        if (!context.Arguments(statement, 1, 1, "digest MD5HEX"))
        {
            return;
        }

        string digest = statement.Arguments[0].Text.ToLowerInvariant();
        if (digest.Length != 32 || !digest.All(char.IsAsciiHexDigit))
        {
            context.Error(statement.Arguments[0].Location, "digest must be an MD5 sum: 32 hexadecimal digits (genhash prints it)");
            return;
        }

        url.Digest = digest;
    }
}
