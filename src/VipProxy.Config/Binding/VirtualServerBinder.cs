using System.Buffers.Binary;
using System.Net;
using VipProxy.Config.Diagnostics;
using VipProxy.Config.Model;
using VipProxy.Config.Syntax;
using VipProxy.Core.ProxyProtocol;

namespace VipProxy.Config.Binding;

/// <summary><c>virtual_server IP PORT { … real_server IP PORT { … } }</c>.</summary>
internal static class VirtualServerBinder
{
    public sealed class Builder(IPEndPoint? endpoint, SourceLocation location)
    {
        public IPEndPoint? Endpoint { get; } = endpoint;
        public SourceLocation Location { get; } = location;
        public CheckTimingOverrides Timing { get; } = new();
        public SchedulingAlgorithm Algorithm = SchedulingAlgorithm.WeightedLeastConnection;
        public TimeSpan? PersistenceTimeout;
        public IPAddress PersistenceGranularity = IPAddress.Broadcast;
        public bool ProtocolGiven;
        public IPEndPoint? SorryServer;
        public bool SorryServerInhibit;
        public bool InhibitOnFailure;
        public int Quorum = 1;
        public int Hysteresis;
        public ScriptCommand? QuorumUp, QuorumDown;
        public bool Alpha, Omega;
        public string? VirtualHost;
        public int? MaxConnections;
        public TimeSpan ProxyConnectTimeout = TimeSpan.FromSeconds(5);
        public TimeSpan? IdleTimeout;
        public bool Transparent;
        public int? MaxConnectionsPerSource;
        public ConnectionRateLimit? ConnectionRatePerSource;
        public TcpKeepalive? TcpKeepalive;
        public WriterConflictPolicy WriterConflict = WriterConflictPolicy.Refuse;
        public TimeSpan? ShutdownSessionsOnDown;
        public SourceLocation? WriterConflictLocation;
        public ProxyProtocolVersion SendProxy;
        public bool CheckSendProxy;
        public List<RealServerBuilder> RealServers = [];

        /// <summary>
        /// Why this virtual_server cannot exist in VipProxy at all (fwmark, no port, DR/TUN, UDP). A refused block
        /// reports only these: every other problem in it would be about a service that cannot run anyway.
        /// </summary>
        public List<(SourceLocation At, string Message)> Refusals = [];

        public VirtualServer? Build(BindContext context)
        {
            if (Endpoint is null)
            {
                return null;
            }

            if (!ProtocolGiven)
            {
                context.Warning(Location, $"virtual_server {Describe()} has no 'protocol': keepalived would default to UDP, VipProxy forwards TCP; write 'protocol TCP' so both read the file alike");
            }

            if (RealServers.Count == 0 && SorryServer is null)
            {
                context.Warning(Location, $"virtual_server {Describe()} has no real_server: every client will be refused");
            }

            var timing = new CheckTimingOverrides { DelayLoop = TimeSpan.FromSeconds(60) };
            timing = Timing.Over(timing);
            var realServers = new List<RealServer>();
            var seen = new Dictionary<IPEndPoint, SourceLocation>();
            foreach (RealServerBuilder builder in RealServers)
            {
                if (builder.Endpoint is not null && !seen.TryAdd(builder.Endpoint, builder.Location))
                {
                    context.Error(builder.Location, $"real_server {builder.Endpoint.Address} {builder.Endpoint.Port} is already declared at line {seen[builder.Endpoint].Line} of this virtual_server");
                    continue;
                }

                if (builder.Build(this, timing, context) is { } realServer)
                {
                    realServers.Add(realServer);
                }
            }

            if (realServers.Count > 0 && realServers.TrueForAll(r => r.Backup))
            {
                context.Warning(Location, $"every real_server of virtual_server {Describe()} is 'backup': backups stand in only while every non-backup server is down, so with none they all take connections as ordinary servers; remove 'backup' or add a non-backup server");
            }

            if (WriterConflictLocation is { } writerConflictAt && !realServers.Exists(IsWriter))
            {
                context.Warning(writerConflictAt, $"'writer_conflict' on virtual_server {Describe()} has no effect: no real_server is checked by MYSQL_CHECK with 'role primary'");
            }

            int totalWeight = realServers.Sum(r => r.Weight);
            if (realServers.Count > 0 && Quorum - Hysteresis > totalWeight)
            {
                context.Warning(Location, $"quorum {Quorum} can never be met: the real servers' weights add up to {totalWeight}");
            }

            return new VirtualServer(
                Endpoint, timing.DelayLoop!.Value, Algorithm, PersistenceTimeout, PersistenceGranularity, SorryServer,
                SorryServerInhibit, InhibitOnFailure, Quorum, Hysteresis, QuorumUp, QuorumDown, Alpha, Omega,
                MaxConnections, ProxyConnectTimeout, IdleTimeout, Transparent, MaxConnectionsPerSource, ConnectionRatePerSource,
                new(realServers), TcpKeepalive, WriterConflict);
        }

        private static bool IsWriter(RealServer server) => server.Checkers.Any(c => c is MySqlCheck { Role: MySqlRole.Primary });

        public string Describe() => Endpoint is null ? "" : $"{Endpoint.Address} {Endpoint.Port}";
    }

    public sealed class RealServerBuilder(IPEndPoint? endpoint, SourceLocation location)
    {
        public IPEndPoint? Endpoint { get; } = endpoint;
        public SourceLocation Location { get; } = location;
        public CheckTimingOverrides Timing { get; } = new();
        public int Weight = 1;
        public bool? InhibitOnFailure;
        public ScriptCommand? NotifyUp, NotifyDown;
        public int? MaxConnections;
        public string? VirtualHost;
        public ProxyProtocolVersion? SendProxy;
        public bool? CheckSendProxy;
        public bool Backup;
        public TimeSpan? SlowStart;
        public TimeSpan? ShutdownSessionsOnDown;
        public (bool On, SourceLocation At)? Alpha;
        public List<CheckerBinder.Builder> Checkers = [];

        public RealServer? Build(Builder virtualServer, CheckTimingOverrides inherited, BindContext context)
        {
            if (Endpoint is null)
            {
                return null;
            }

            CheckTimingOverrides timing = Timing.Over(inherited);
            CheckAlpha(Alpha, virtualServer, context);
            var checkers = new List<HealthCheck>();
            foreach (CheckerBinder.Builder checker in Checkers)
            {
                if (Alpha is null || Alpha.Value.On == virtualServer.Alpha)
                {
                    CheckAlpha(checker.Alpha, virtualServer, context, checker.Keyword);
                }

                if (checker.Build(timing, VirtualHost ?? virtualServer.VirtualHost, context) is { } built)
                {
                    checkers.Add(built);
                }
            }

            ProxyProtocolVersion sendProxy = SendProxy ?? virtualServer.SendProxy;
            bool checkSendProxy = CheckSendProxy ?? virtualServer.CheckSendProxy;
            if (checkSendProxy && sendProxy == ProxyProtocolVersion.None)
            {
                context.Error(Location, $"real_server {Endpoint.Address} {Endpoint.Port} has 'check_send_proxy' but no 'send_proxy' or 'send_proxy_v2': the checks would not know which header to send");
            }

            if (virtualServer.Transparent && sendProxy != ProxyProtocolVersion.None)
            {
                context.Warning(Location, $"real_server {Endpoint.Address} {Endpoint.Port} gets both 'transparent' and a PROXY header: the server already sees the client's address; keep one of the two");
            }

            return new RealServer(Endpoint, Weight, InhibitOnFailure ?? virtualServer.InhibitOnFailure, NotifyUp, NotifyDown, MaxConnections, new(checkers), sendProxy, checkSendProxy, Backup, SlowStart, ShutdownSessionsOnDown ?? virtualServer.ShutdownSessionsOnDown);
        }
    }

    // The model has one alpha per virtual_server (every real server starts down until its first check passes);
    // keepalived 2.x also sets it per real server and per checker, which is only representable when it agrees.
    private static void CheckAlpha((bool On, SourceLocation At)? alpha, Builder virtualServer, BindContext context, string? checker = null)
    {
        if (alpha is not { } given || given.On == virtualServer.Alpha)
        {
            return;
        }

        string where = checker is null ? "a real_server" : $"a {checker}";
        context.Error(given.At, $"'alpha{(given.On ? "" : " no")}' on {where} is not supported by VipProxy: alpha (servers start down until their first check passes) "
            + $"applies to a whole virtual_server here, and virtual_server {virtualServer.Describe()} has {(virtualServer.Alpha ? "" : "no ")}alpha; "
            + $"set it on the virtual_server, or put these real servers in a virtual_server of their own");
    }

    private static void BindAlpha(RealServerBuilder builder, Statement statement, BindContext context)
    {
        if (context.Flag(statement, "real_server", out bool on))
        {
            builder.Alpha = (on, statement.Location);
        }
    }

    // LVS schedulers that keepalived accepts and VipProxy does not implement.
    private static readonly HashSet<string> OtherLvsAlgorithms = new(StringComparer.Ordinal)
    {
        "lblc", "lblcr", "dh", "sed", "nq", "ovf", "twos",
    };

    public static readonly KeywordTable<Builder> Table = CreateTable();

    private static KeywordTable<Builder> CreateTable()
    {
        var table = new KeywordTable<Builder>("virtual_server")
        {
            { "lb_algo", BindAlgorithm },
            { "lvs_sched", BindAlgorithm },
            { "lb_kind", BindKind },
            { "lvs_method", BindKind },
            { "protocol", BindProtocol },
            { "persistence_timeout", BindPersistenceTimeout },
            { "persistence_granularity", BindGranularity },
            { "sorry_server", BindSorryServer },
            { "sorry_server_inhibit", (b, on) => b.SorryServerInhibit = on },
            { "inhibit_on_failure", (b, on) => b.InhibitOnFailure = on },
            { "quorum", (b, s, c) => { if (c.Arguments(s, 1, 1, "quorum N") && c.Integer(s.Arguments[0], s.Name, 1, int.MaxValue, out int v)) { b.Quorum = v; } } },
            { "hysteresis", (b, s, c) => { if (c.Arguments(s, 1, 1, "hysteresis N") && c.Integer(s.Arguments[0], s.Name, 0, int.MaxValue, out int v)) { b.Hysteresis = v; } } },
            { "quorum_up", (b, s, c) => { if (c.Script(s, out var v)) { b.QuorumUp = v; } } },
            { "quorum_down", (b, s, c) => { if (c.Script(s, out var v)) { b.QuorumDown = v; } } },
            { "alpha", (b, on) => b.Alpha = on },
            { "omega", (b, on) => b.Omega = on },
            { "virtualhost", (b, s, c) => { if (c.Arguments(s, 1, 1, "virtualhost NAME")) { b.VirtualHost = s.Arguments[0].Text; } } },
            { "maxconn", (b, s, c) => { if (c.Arguments(s, 1, 1, "maxconn N") && c.Integer(s.Arguments[0], s.Name, 1, 10_000_000, out int v)) { b.MaxConnections = v; } } },
            { "proxy_connect_timeout", (b, s, c) => { if (c.Arguments(s, 1, 1, "proxy_connect_timeout SECONDS") && c.Seconds(s.Arguments[0], s.Name, 0.001, 3600, out var v)) { b.ProxyConnectTimeout = v; } } },
            { "idle_timeout", (b, s, c) => { if (c.Arguments(s, 1, 1, "idle_timeout SECONDS") && c.Seconds(s.Arguments[0], s.Name, 0.001, 31_536_000, out var v)) { b.IdleTimeout = v; } } },
            { "transparent", (b, on) => b.Transparent = on },
            { "maxconn_per_source", (b, s, c) => { if (c.Arguments(s, 1, 1, "maxconn_per_source N") && c.Integer(s.Arguments[0], s.Name, 1, 10_000_000, out int v)) { b.MaxConnectionsPerSource = v; } } },
            { "conn_rate_per_source", BindConnectionRate },
            { "tcp_keepalive", BindTcpKeepalive },
            { "writer_conflict", BindWriterConflict },
            { "shutdown_sessions_on_down", (b, s, c) => { if (ShutdownGrace(s, c) is { } v) { b.ShutdownSessionsOnDown = v; } } },
            { "send_proxy", (b, on) => b.SendProxy = on ? ProxyProtocolVersion.V1 : ProxyProtocolVersion.None },
            { "send_proxy_v2", (b, on) => b.SendProxy = on ? ProxyProtocolVersion.V2 : ProxyProtocolVersion.None },
            { "check_send_proxy", (b, on) => b.CheckSendProxy = on },
            { "real_server", BindRealServer, BlockUse.Required, true },
        };
        CheckTimingOverrides.AddTo(table, b => b.Timing);
        return table;
    }

    private static void BindAlgorithm(Builder builder, Statement statement, BindContext context)
    {
        if (!context.Arguments(statement, 1, 1, "lb_algo rr|wrr|lc|wlc|sh|mh|fo"))
        {
            return;
        }

        Token name = statement.Arguments[0];
        if (OtherLvsAlgorithms.Contains(name.Text))
        {
            context.Error(name.Location, $"lb_algo {name.Text} is not supported by VipProxy; use one of rr, wrr, lc, wlc, sh, mh, fo");
            return;
        }

        if (!SchedulingAlgorithmNames.TryParse(name.Text, out SchedulingAlgorithm algorithm))
        {
            context.Error(name.Location, $"'{statement.Name}' expects one of rr, wrr, lc, wlc, sh, mh, fo, not '{name.Text}'");
            return;
        }

        builder.Algorithm = algorithm;
    }

    /// <summary><c>shutdown_sessions_on_down [GRACE_SECONDS]</c>: the grace, 0 (at once) when not given.</summary>
    private static TimeSpan? ShutdownGrace(Statement statement, BindContext context)
    {
        if (!context.Arguments(statement, 0, 1, "shutdown_sessions_on_down [GRACE_SECONDS]"))
        {
            return null;
        }

        if (statement.Arguments.Count == 0)
        {
            return TimeSpan.Zero;
        }

        return context.Seconds(statement.Arguments[0], statement.Name, 0, 86_400, out TimeSpan grace) ? grace : null;
    }

    private static void BindWriterConflict(Builder builder, Statement statement, BindContext context)
    {
        if (!context.Arguments(statement, 1, 1, "writer_conflict refuse|first"))
        {
            return;
        }

        Token policy = statement.Arguments[0];
        switch (policy.Text)
        {
            case "refuse":
                builder.WriterConflict = WriterConflictPolicy.Refuse;
                break;
            case "first":
                builder.WriterConflict = WriterConflictPolicy.First;
                break;
            default:
                context.Error(policy.Location, $"'{statement.Name}' expects refuse or first, not '{policy.Text}'");
                return;
        }

        builder.WriterConflictLocation = statement.Location;
    }

    private static void BindKind(Builder builder, Statement statement, BindContext context)
    {
        if (!context.Arguments(statement, 1, 1, "lb_kind NAT"))
        {
            return;
        }

        Token kind = statement.Arguments[0];
        switch (kind.Text.ToUpperInvariant())
        {
            case "NAT":
                return;
            case "DR" or "TUN":
                builder.Refusals.Add((kind.Location, $"lb_kind {kind.Text} is not supported by VipProxy: with {(kind.Text.Equals("DR", StringComparison.OrdinalIgnoreCase) ? "direct routing" : "IP tunnelling")} the real servers answer clients themselves, which needs kernel IPVS; "
                    + "VipProxy is a proxy, so replies come back through it (as with NAT). To let the real servers see the client's address, "
                    + "write 'lb_kind NAT' with 'transparent' (the real servers route replies through this node) or with 'send_proxy_v2' (PROXY protocol, if the servers read it)"));
                return;
            default:
                context.Error(kind.Location, $"'{statement.Name}' expects NAT, not '{kind.Text}'");
                return;
        }
    }

    private static void BindProtocol(Builder builder, Statement statement, BindContext context)
    {
        if (!context.Arguments(statement, 1, 1, "protocol TCP"))
        {
            return;
        }

        Token protocol = statement.Arguments[0];
        switch (protocol.Text.ToUpperInvariant())
        {
            case "TCP":
                builder.ProtocolGiven = true;
                return;
            case "UDP" or "SCTP":
                builder.ProtocolGiven = true;
                builder.Refusals.Add((protocol.Location, $"protocol {protocol.Text} is not supported by VipProxy: it forwards TCP only; keep {protocol.Text.ToUpperInvariant()} services on keepalived with IPVS (MySQL, HTTP and the like are TCP: write 'protocol TCP')"));
                return;
            default:
                context.Error(protocol.Location, $"'protocol' expects TCP, not '{protocol.Text}'");
                return;
        }
    }

    private static void BindPersistenceTimeout(Builder builder, Statement statement, BindContext context)
    {
        if (!context.Arguments(statement, 0, 1, "persistence_timeout [SECONDS]"))
        {
            return;
        }

        if (statement.Arguments.Count == 0)
        {
            builder.PersistenceTimeout = VirtualServer.DefaultPersistenceTimeout;
            return;
        }

        if (context.Integer(statement.Arguments[0], statement.Name, 0, 31_536_000, out int seconds))
        {
            builder.PersistenceTimeout = seconds == 0 ? null : TimeSpan.FromSeconds(seconds);
        }
    }

    private static void BindGranularity(Builder builder, Statement statement, BindContext context)
    {
        if (!context.Arguments(statement, 1, 1, "persistence_granularity NETMASK")
            || !context.IPv4(statement.Arguments[0], statement.Name, out IPAddress mask))
        {
            return;
        }

        uint bits = BinaryPrimitives.ReadUInt32BigEndian(mask.GetAddressBytes());
        // A netmask is ones followed by zeros: inverting it and adding one gives a power of two.
        uint inverted = ~bits;
        if ((inverted & (inverted + 1)) != 0)
        {
            context.Error(statement.Arguments[0].Location, $"persistence_granularity {mask} is not a netmask (ones then zeros, e.g. 255.255.255.0)");
            return;
        }

        builder.PersistenceGranularity = mask;
    }

    private static void BindConnectionRate(Builder builder, Statement statement, BindContext context)
    {
        if (context.Arguments(statement, 2, 2, "conn_rate_per_source CONNECTIONS SECONDS")
            && context.Integer(statement.Arguments[0], statement.Name, 1, 10_000_000, out int connections)
            && context.Seconds(statement.Arguments[1], statement.Name, 0.001, 86_400, out TimeSpan period))
        {
            builder.ConnectionRatePerSource = new ConnectionRateLimit(connections, period);
        }
    }

    private static void BindTcpKeepalive(Builder builder, Statement statement, BindContext context)
    {
        // The kernel's own limits (MAX_TCP_KEEPIDLE, MAX_TCP_KEEPINTVL, MAX_TCP_KEEPCNT), so setsockopt never refuses
        // a value the file was allowed to hold; whole seconds because that is the kernel's unit.
        if (context.Arguments(statement, 3, 3, "tcp_keepalive IDLE_SECONDS INTERVAL_SECONDS COUNT")
            && context.Integer(statement.Arguments[0], statement.Name, 1, 32767, out int idle)
            && context.Integer(statement.Arguments[1], statement.Name, 1, 32767, out int interval)
            && context.Integer(statement.Arguments[2], statement.Name, 1, 127, out int count))
        {
            builder.TcpKeepalive = new TcpKeepalive(TimeSpan.FromSeconds(idle), TimeSpan.FromSeconds(interval), count);
        }
    }

    private static void BindSorryServer(Builder builder, Statement statement, BindContext context)
    {
        if (context.Arguments(statement, 2, 2, "sorry_server IP PORT") && context.Endpoint(statement, 0, out IPEndPoint endpoint))
        {
            builder.SorryServer = endpoint;
        }
    }

    private static readonly KeywordTable<RealServerBuilder> RealServerTable = CreateRealServerTable();

    private static KeywordTable<RealServerBuilder> CreateRealServerTable()
    {
        var table = new KeywordTable<RealServerBuilder>("real_server")
        {
            { "weight", (b, s, c) => { if (c.Arguments(s, 1, 1, "weight N") && c.Integer(s.Arguments[0], s.Name, 0, 65535, out int v)) { b.Weight = v; } } },
            { "inhibit_on_failure", (b, on) => b.InhibitOnFailure = on },
            { "notify_up", (b, s, c) => { if (c.Script(s, out var v)) { b.NotifyUp = v; } } },
            { "notify_down", (b, s, c) => { if (c.Script(s, out var v)) { b.NotifyDown = v; } } },
            { "uthreshold", (b, s, c) => { if (c.Arguments(s, 1, 1, "uthreshold N") && c.Integer(s.Arguments[0], s.Name, 0, 10_000_000, out int v)) { b.MaxConnections = v == 0 ? null : v; } } },
            { "maxconn", (b, s, c) => { if (c.Arguments(s, 1, 1, "maxconn N") && c.Integer(s.Arguments[0], s.Name, 1, 10_000_000, out int v)) { b.MaxConnections = v; } } },
            { "virtualhost", (b, s, c) => { if (c.Arguments(s, 1, 1, "virtualhost NAME")) { b.VirtualHost = s.Arguments[0].Text; } } },
            { "shutdown_sessions_on_down", (b, s, c) => { if (ShutdownGrace(s, c) is { } v) { b.ShutdownSessionsOnDown = v; } } },
            { "slowstart", (b, s, c) => { if (c.Arguments(s, 1, 1, "slowstart SECONDS") && c.Seconds(s.Arguments[0], s.Name, 0, 86_400, out var v)) { b.SlowStart = v > TimeSpan.Zero ? v : null; } } },
            { "send_proxy", (b, on) => b.SendProxy = on ? ProxyProtocolVersion.V1 : ProxyProtocolVersion.None },
            { "send_proxy_v2", (b, on) => b.SendProxy = on ? ProxyProtocolVersion.V2 : ProxyProtocolVersion.None },
            { "check_send_proxy", (b, on) => b.CheckSendProxy = on },
            { "backup", (b, on) => b.Backup = on },
            { "alpha", BindAlpha },
        };
        foreach (string checker in new[] { "TCP_CHECK", "HTTP_GET", "MISC_CHECK", "MYSQL_CHECK" })
        {
            table.Add(checker, BindChecker, BlockUse.Required, repeatable: true);
        }

        CheckTimingOverrides.AddTo(table, b => b.Timing);
        return table;
    }

    /// <summary>Every table below virtual_server, for "belongs in" hints.</summary>
    public static IEnumerable<IKeywordTable> NestedTables =>
        [RealServerTable, CheckerBinder.Tcp, CheckerBinder.Http, CheckerBinder.Misc, CheckerBinder.MySql];

    private static void BindRealServer(Builder builder, Statement statement, BindContext context)
    {
        IPEndPoint? endpoint = null;
        if (context.Arguments(statement, 2, 2, "real_server IP PORT { … }") && context.Endpoint(statement, 0, out IPEndPoint parsed))
        {
            endpoint = parsed;
        }

        var realServer = new RealServerBuilder(endpoint, statement.Location);
        RealServerTable.Bind(realServer, statement.Block!.Statements, context);
        builder.RealServers.Add(realServer);
    }

    private static void BindChecker(RealServerBuilder realServer, Statement statement, BindContext context)
    {
        context.Arguments(statement, 0, 0, $"{statement.Name} {{ … }}");
        var checker = new CheckerBinder.Builder(statement.Name, statement.Location);
        CheckerBinder.For(statement.Name).Bind(checker, statement.Block!.Statements, context);
        realServer.Checkers.Add(checker);
    }

    /// <summary>
    /// Reads the <c>virtual_server IP PORT</c> header. The <c>fwmark</c> and <c>group</c> forms and a missing port
    /// (IPVS's every-port service) are refusals: the block is then not read any further.
    /// </summary>
    public static Builder Create(Statement statement, BindContext context)
    {
        IReadOnlyList<Token> args = statement.Arguments;
        if (args.Count > 0 && args[0].Text is "fwmark" or "group")
        {
            var refused = new Builder(null, statement.Location);
            refused.Refusals.Add((args[0].Location, args[0].Text == "fwmark"
                ? "'virtual_server fwmark' is not supported by VipProxy: a firewall-mark service is a kernel IPVS feature, and VipProxy is a proxy that listens on an address and port; "
                  + "declare one 'virtual_server IP PORT' for each address and port the mark covered"
                : "'virtual_server group' is not supported by VipProxy: virtual_server_group is not implemented; declare each 'virtual_server IP PORT' with its real servers"));
            return refused;
        }

        if (args.Count > 0 && args[0].Text.Contains(':', StringComparison.Ordinal) && IPAddress.TryParse(args[0].Text, out IPAddress? v6)
            && v6.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6)
        {
            var refused = new Builder(null, statement.Location);
            refused.Refusals.Add((args[0].Location, $"'virtual_server' address '{args[0].Text}' is IPv6: VipProxy supports IPv4 only"));
            return refused;
        }

        if (args.Count is 1 or 2 && IPAddress.TryParse(args[0].Text, out _) && (args.Count == 1 || args[1].Text == "0"))
        {
            var refused = new Builder(null, statement.Location);
            refused.Refusals.Add((args.Count == 1 ? statement.EndLocation : args[1].Location,
                $"virtual_server {args[0].Text} without a port is not supported by VipProxy: a service on every port (IPVS port 0, used with persistence) needs kernel IPVS, "
                + $"and VipProxy listens on one address and port; declare one 'virtual_server {args[0].Text} PORT' for each port clients use"));
            return refused;
        }

        if (context.Arguments(statement, 2, 2, "virtual_server IP PORT { … }") && context.Endpoint(statement, 0, out IPEndPoint endpoint))
        {
            return new Builder(endpoint, statement.Location);
        }

        return new Builder(null, statement.Location);
    }
}
