using System.Net;
using VipProxy.Config.Diagnostics;
using VipProxy.Config.Model;
using VipProxy.Config.Syntax;

namespace VipProxy.Config.Binding;

/// <summary>
/// Turns the statement tree into the typed model, then cross-checks what no single block can see:
/// duplicate names and VRIDs, track_script references, duplicate listeners, VIPs outside the host's subnets.
/// </summary>
internal sealed class ConfigBinder
{
    private readonly BindContext _context;
    private readonly ConfigLoadOptions _options;
    private readonly GlobalDefsBinder.Builder _global = new();
    private readonly List<VrrpScriptBinder.Builder> _scripts = [];
    private readonly List<VrrpInstanceBinder.Builder> _instances = [];
    private readonly List<VirtualServerBinder.Builder> _virtualServers = [];
    private SourceLocation? _globalLocation;

    private ConfigBinder(DiagnosticBag diagnostics, ConfigLoadOptions options)
    {
        _options = options;
        _context = new BindContext(diagnostics) { AllTables = AllTables };
    }

    /// <summary>Keywords that open a top-level block; the syntax parser uses them to recover from a lost '}'.</summary>
    public static readonly IReadOnlySet<string> TopLevelBlocks = new HashSet<string>(StringComparer.Ordinal)
    {
        "global_defs", "vrrp_script", "vrrp_instance", "virtual_server",
        "vrrp_sync_group", "virtual_server_group", "static_ipaddress", "static_routes", "static_rules",
        "vrrp_track_file", "vrrp_track_process", "bfd_instance", "garp_group",
    };

    private static readonly KeywordTable<ConfigBinder> TopLevel = new("the top level")
    {
        { "global_defs", (b, s, c) => b.BindGlobal(s), BlockUse.Required, true },
        { "vrrp_script", (b, s, c) => b.BindScript(s), BlockUse.Required, true },
        { "vrrp_instance", (b, s, c) => b.BindInstance(s), BlockUse.Required, true },
        { "virtual_server", (b, s, c) => b.BindVirtualServer(s), BlockUse.Required, true },
    };

    internal static readonly IReadOnlyList<IKeywordTable> AllTables =
    [
        TopLevel, GlobalDefsBinder.Table, VrrpScriptBinder.Table, VrrpInstanceBinder.Table, VirtualServerBinder.Table,
        .. VirtualServerBinder.NestedTables,
    ];

    public static KeepalivedConfig? Bind(IReadOnlyList<Statement> statements, DiagnosticBag diagnostics, ConfigLoadOptions options)
    {
        var binder = new ConfigBinder(diagnostics, options);
        TopLevel.Bind(binder, statements, binder._context);
        return binder.Build();
    }

    private void BindGlobal(Statement statement)
    {
        _context.Arguments(statement, 0, 0, "global_defs { … }");
        if (_globalLocation is { } first)
        {
            _context.Warning(statement.Location, $"global_defs is also declared at line {first.Line}; their settings are merged");
        }

        _globalLocation ??= statement.Location;
        GlobalDefsBinder.Table.Bind(_global, statement.Block!.Statements, _context);
    }

    private void BindScript(Statement statement)
    {
        VrrpScriptBinder.Builder script = VrrpScriptBinder.Create(statement, _context);
        VrrpScriptBinder.Table.Bind(script, statement.Block!.Statements, _context);
        _scripts.Add(script);
    }

    private void BindInstance(Statement statement)
    {
        VrrpInstanceBinder.Builder instance = VrrpInstanceBinder.Create(statement, _context);
        VrrpInstanceBinder.Table.Bind(instance, statement.Block!.Statements, _context);
        _instances.Add(instance);
    }

    // The block is read into a bag of its own: if it turns out to be refused (fwmark, no port, DR/TUN, UDP), only the
    // refusals are reported, never the follow-on errors of a service that cannot exist here.
    private void BindVirtualServer(Statement statement)
    {
        var own = new DiagnosticBag();
        var context = new BindContext(own) { AllTables = AllTables };
        VirtualServerBinder.Builder virtualServer = VirtualServerBinder.Create(statement, context);
        if (virtualServer.Refusals.Count == 0)
        {
            VirtualServerBinder.Table.Bind(virtualServer, statement.Block!.Statements, context);
        }

        if (virtualServer.Refusals.Count > 0)
        {
            foreach ((SourceLocation at, string message) in virtualServer.Refusals)
            {
                _context.Error(at, message);
            }

            return;
        }

        _context.Diagnostics.AddRange(own);
        _virtualServers.Add(virtualServer);
    }

    private KeepalivedConfig? Build()
    {
        GlobalDefinitions global = _global.Build();
        var scripts = new List<VrrpScript>();
        foreach (VrrpScriptBinder.Builder builder in Unique(_scripts, s => s.Name, s => s.Location, "vrrp_script"))
        {
            if (builder.Build(_context) is { } script)
            {
                scripts.Add(script);
            }
        }

        var instances = new List<VrrpInstance>();
        foreach (VrrpInstanceBinder.Builder builder in Unique(_instances, i => i.Name, i => i.Location, "vrrp_instance"))
        {
            CheckTrackScripts(builder);
            if (builder.Build(global, _context) is { } instance)
            {
                instances.Add(instance);
            }
        }

        CheckVirtualRouterIds();
        var virtualServers = new List<VirtualServer>();
        var listeners = new Dictionary<IPEndPoint, SourceLocation>();
        foreach (VirtualServerBinder.Builder builder in _virtualServers)
        {
            if (builder.Endpoint is not null && !listeners.TryAdd(builder.Endpoint, builder.Location))
            {
                _context.Error(builder.Location, $"virtual_server {builder.Describe()} is already declared at line {listeners[builder.Endpoint].Line}");
                continue;
            }

            if (builder.Build(_context) is { } virtualServer)
            {
                virtualServers.Add(virtualServer);
            }
        }

        if (_options.HostInterfaces is { } interfaces)
        {
            HostChecks.Run(_instances, instances, interfaces, _context);
        }

        if (_context.Diagnostics.HasErrors)
        {
            return null;
        }

        return new KeepalivedConfig(global, new(scripts), new(instances), new(virtualServers));
    }

    private IEnumerable<T> Unique<T>(List<T> items, Func<T, string> name, Func<T, SourceLocation> location, string kind)
    {
        var seen = new Dictionary<string, SourceLocation>(StringComparer.Ordinal);
        foreach (T item in items)
        {
            if (name(item).Length == 0)
            {
                continue;
            }

            if (!seen.TryAdd(name(item), location(item)))
            {
                _context.Error(location(item), $"{kind} {name(item)} is already declared at line {seen[name(item)].Line}");
                continue;
            }

            yield return item;
        }
    }

    private void CheckTrackScripts(VrrpInstanceBinder.Builder instance)
    {
        foreach ((TrackedScript tracked, SourceLocation at) in instance.TrackScripts)
        {
            if (_scripts.Exists(s => s.Name == tracked.Name))
            {
                continue;
            }

            string? suggestion = Binding.KeywordSuggester.Suggest(tracked.Name, null, _scripts.Select(s => s.Name));
            _context.Error(at, $"track_script names '{tracked.Name}', but no vrrp_script has that name" + (suggestion is null ? "" : $"; did you mean '{suggestion}'?"));
        }
    }

    // RFC 5798 §5.2.3: the VRID identifies the virtual router on its LAN, so two instances on one interface
    // (and one protocol version, whose packets both sides read) must not share it.
    private void CheckVirtualRouterIds()
    {
        var seen = new Dictionary<(string, int), VrrpInstanceBinder.Builder>();
        foreach (VrrpInstanceBinder.Builder instance in _instances)
        {
            if (instance.Interface is null || instance.VirtualRouterId is not { } id)
            {
                continue;
            }

            if (!seen.TryAdd((instance.Interface, id), instance))
            {
                VrrpInstanceBinder.Builder first = seen[(instance.Interface, id)];
                _context.Error(instance.VirtualRouterIdLocation ?? instance.Location,
                    $"virtual_router_id {id} on {instance.Interface} is already used by vrrp_instance {first.Name} (line {first.Location.Line}): each instance on an interface needs its own id");
            }
        }
    }
}
