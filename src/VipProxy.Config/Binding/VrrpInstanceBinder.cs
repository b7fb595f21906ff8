using System.Net;
using System.Text;
using VipProxy.Config.Diagnostics;
using VipProxy.Config.Model;
using VipProxy.Config.Syntax;

namespace VipProxy.Config.Binding;

/// <summary><c>vrrp_instance NAME { … }</c>.</summary>
internal static class VrrpInstanceBinder
{
    public sealed class Builder(string name, SourceLocation location)
    {
        public string Name { get; } = name;
        public SourceLocation Location { get; } = location;
        public VrrpInitialState State = VrrpInitialState.Backup;
        public SourceLocation? StateLocation;
        public string? Interface;
        public int? VirtualRouterId;
        public SourceLocation? VirtualRouterIdLocation;
        public int Priority = 100;
        public TimeSpan AdvertInterval = TimeSpan.FromSeconds(1);
        public Token? AdvertIntervalToken;
        public int? Version;
        public string? AuthType;
        public bool AuthTypeRefused;
        public string? AuthPassword;
        public SourceLocation? AuthenticationLocation;
        public List<VirtualIpAddress> VirtualIpAddresses = [];
        public List<VirtualIpAddress> ExcludedVirtualIpAddresses = [];
        public bool NoPreempt;
        public SourceLocation? NoPreemptLocation;
        public TimeSpan PreemptDelay = TimeSpan.Zero;
        public IPAddress? UnicastSourceIp;
        public List<IPAddress> UnicastPeers = [];
        public List<TrackedInterface> TrackInterfaces = [];
        public List<(TrackedScript Script, SourceLocation Location)> TrackScripts = [];
        public ScriptCommand? NotifyMaster, NotifyBackup, NotifyFault, NotifyStop, Notify;
        public GarpBuilder Garp = new();
        public bool DontTrackPrimary;
        public bool DontTrackVirtualServers;

        public VrrpInstance? Build(GlobalDefinitions global, BindContext context)
        {
            bool ok = true;
            if (Interface is null)
            {
                context.Error(Location, $"vrrp_instance {Name} has no 'interface': write 'interface eth0'");
                ok = false;
            }

            if (VirtualRouterId is null && VirtualRouterIdLocation is null)
            {
                context.Error(Location, $"vrrp_instance {Name} has no 'virtual_router_id': write 'virtual_router_id 1-255'");
                ok = false;
            }

            int version = Version ?? global.VrrpVersion;
            ok &= CheckAdvertInterval(version, context);
            VrrpAuthentication? authentication = BuildAuthentication(version, context, ref ok);
            bool preempt = !NoPreempt;
            if (NoPreempt && State == VrrpInitialState.Master)
            {
                // keepalived does the same: nopreempt only makes sense for an instance that starts as backup.
                context.Warning(NoPreemptLocation ?? Location, "'nopreempt' is ignored with 'state MASTER' (as keepalived does): use 'state BACKUP' on every node for nopreempt");
                preempt = true;
            }

            if (UnicastSourceIp is not null && UnicastPeers.Contains(UnicastSourceIp))
            {
                context.Warning(Location, $"unicast_peer lists this node's own unicast_src_ip {UnicastSourceIp}");
            }

            if (VirtualIpAddresses.Count == 0 && ExcludedVirtualIpAddresses.Count == 0)
            {
                context.Warning(Location, $"vrrp_instance {Name} has no virtual_ipaddress: becoming master will claim nothing");
            }

            if (!ok || VirtualRouterId is null)
            {
                return null;
            }

            var notify = new NotifyScripts(NotifyMaster, NotifyBackup, NotifyFault, NotifyStop, Notify);
            return new VrrpInstance(
                Name, State, Interface!, VirtualRouterId!.Value, Priority, AdvertInterval, version, authentication,
                new(VirtualIpAddresses), new(ExcludedVirtualIpAddresses), preempt, PreemptDelay, UnicastSourceIp,
                new(UnicastPeers), new(TrackInterfaces), new(TrackScripts.Select(t => t.Script)), notify,
                Garp.Build(global.Garp), DontTrackPrimary, !DontTrackVirtualServers);
        }

        // RFC 3768 §5.3.7: v2 carries whole seconds in 8 bits. RFC 5798 §5.2.7: v3 carries centiseconds in
        // 12 bits, so 0.01–40.95 s in steps of 10 ms.
        private bool CheckAdvertInterval(int version, BindContext context)
        {
            SourceLocation at = AdvertIntervalToken?.Location ?? Location;
            double seconds = AdvertInterval.TotalSeconds;
            if (version == 2)
            {
                if (seconds != Math.Floor(seconds) || seconds < 1 || seconds > 255)
                {
                    context.Error(at, $"advert_int {AdvertIntervalToken?.Text} is not valid for VRRPv2: it must be whole seconds from 1 to 255 (sub-second intervals need 'version 3')");
                    return false;
                }

                return true;
            }

            double centiseconds = Math.Round(seconds * 100, 6);
            if (centiseconds != Math.Floor(centiseconds) || centiseconds < 1 || centiseconds > 4095)
            {
                context.Error(at, $"advert_int {AdvertIntervalToken?.Text} is not valid for VRRPv3: it must be from 0.01 to 40.95 seconds in steps of 0.01");
                return false;
            }

            return true;
        }

        private VrrpAuthentication? BuildAuthentication(int version, BindContext context, ref bool ok)
        {
            if (AuthenticationLocation is null)
            {
                return null;
            }

            if (AuthTypeRefused)
            {
                // Already reported where auth_type is; "needs both" would only repeat it.
                ok = false;
                return null;
            }

            if (AuthType is null || AuthPassword is null)
            {
                context.Error(AuthenticationLocation.Value, "authentication needs both 'auth_type PASS' and 'auth_pass SECRET'");
                ok = false;
                return null;
            }

            if (version == 3)
            {
                // RFC 5798 §9 removed authentication; keepalived ignores it for v3 with a warning too.
                context.Warning(AuthenticationLocation.Value, "authentication is ignored with VRRPv3: RFC 5798 has no authentication (keepalived ignores it too)");
                return null;
            }

            return new VrrpAuthentication(AuthPassword);
        }
    }

    private static readonly Dictionary<string, VrrpInitialState> States = new(StringComparer.Ordinal)
    {
        ["MASTER"] = VrrpInitialState.Master,
        ["BACKUP"] = VrrpInitialState.Backup,
    };

    public static readonly KeywordTable<Builder> Table = new("vrrp_instance")
    {
        { "state", BindState },
        { "interface", (b, s, c) => { if (c.Arguments(s, 1, 1, "interface IFNAME")) { b.Interface = s.Arguments[0].Text; } } },
        { "virtual_router_id", BindVirtualRouterId },
        { "priority", (b, s, c) => { if (c.Arguments(s, 1, 1, "priority 1-255") && c.Integer(s.Arguments[0], s.Name, 1, 255, out int v)) { b.Priority = v; } } },
        { "advert_int", BindAdvertInterval },
        { "version", (b, s, c) => { if (c.Arguments(s, 1, 1, "version 2|3") && c.Integer(s.Arguments[0], s.Name, 2, 3, out int v)) { b.Version = v; } } },
        { "authentication", BindAuthentication, BlockUse.Required },
        { "virtual_ipaddress", (b, s, c) => BindVirtualIpAddresses(b, b.VirtualIpAddresses, s, c), BlockUse.Required, true },
        { "virtual_ipaddress_excluded", (b, s, c) => BindVirtualIpAddresses(b, b.ExcludedVirtualIpAddresses, s, c), BlockUse.Required, true },
        { "nopreempt", (b, s, c) => { if (c.Flag(s, "vrrp_instance", out bool on)) { b.NoPreempt = on; b.NoPreemptLocation = on ? s.Location : null; } } },
        { "preempt", (b, on) => b.NoPreempt = !on },
        { "preempt_delay", (b, s, c) => { if (c.Arguments(s, 1, 1, "preempt_delay SECONDS") && c.Seconds(s.Arguments[0], s.Name, 0, 1000, out var v)) { b.PreemptDelay = v; } } },
        { "unicast_src_ip", BindUnicastSource },
        { "mcast_src_ip", BindUnicastSource },
        { "unicast_peer", BindUnicastPeers, BlockUse.Required, true },
        { "track_interface", BindTrackInterfaces, BlockUse.Required, true },
        { "track_script", BindTrackScripts, BlockUse.Required, true },
        { "notify_master", (b, s, c) => { if (c.Script(s, out var v)) { b.NotifyMaster = v; } } },
        { "notify_backup", (b, s, c) => { if (c.Script(s, out var v)) { b.NotifyBackup = v; } } },
        { "notify_fault", (b, s, c) => { if (c.Script(s, out var v)) { b.NotifyFault = v; } } },
        { "notify_stop", (b, s, c) => { if (c.Script(s, out var v)) { b.NotifyStop = v; } } },
        { "notify", (b, s, c) => { if (c.Script(s, out var v)) { b.Notify = v; } } },
        { "garp_master_delay", (b, s, c) => GarpBuilder.BindDelay(s, c, v => b.Garp.MasterDelay = v) },
        { "garp_master_repeat", (b, s, c) => GarpBuilder.BindCount(s, c, v => b.Garp.MasterRepeat = v) },
        { "garp_master_refresh", (b, s, c) => GarpBuilder.BindDelay(s, c, v => b.Garp.MasterRefresh = v) },
        { "garp_master_refresh_repeat", (b, s, c) => GarpBuilder.BindCount(s, c, v => b.Garp.MasterRefreshRepeat = v) },
        { "garp_interval", (b, s, c) => GarpBuilder.BindInterval(s, c, v => b.Garp.Interval = v) },
        { "garp_lower_prio_delay", (b, s, c) => GarpBuilder.BindDelay(s, c, v => b.Garp.LowerPriorityDelay = v) },
        { "garp_lower_prio_repeat", (b, s, c) => GarpBuilder.BindCount(s, c, v => b.Garp.LowerPriorityRepeat = v) },
        { "dont_track_primary", (b, on) => b.DontTrackPrimary = on },
        { "dont_track_virtual_servers", (b, on) => b.DontTrackVirtualServers = on },
    };

    private static void BindState(Builder builder, Statement statement, BindContext context)
    {
        if (context.Arguments(statement, 1, 1, "state MASTER|BACKUP") && context.Choice(statement.Arguments[0], "state", States, out VrrpInitialState state))
        {
            builder.State = state;
            builder.StateLocation = statement.Location;
        }
    }

    private static void BindVirtualRouterId(Builder builder, Statement statement, BindContext context)
    {
        // Remember the location even when the value is bad, so that Build does not also call it missing.
        builder.VirtualRouterIdLocation = statement.Arguments.Count > 0 ? statement.Arguments[0].Location : statement.Location;
        if (context.Arguments(statement, 1, 1, "virtual_router_id 1-255") && context.Integer(statement.Arguments[0], statement.Name, 1, 255, out int id))
        {
            builder.VirtualRouterId = id;
        }
    }

    private static void BindAdvertInterval(Builder builder, Statement statement, BindContext context)
    {
        if (context.Arguments(statement, 1, 1, "advert_int SECONDS") && context.Seconds(statement.Arguments[0], statement.Name, 0.01, 255, out TimeSpan interval))
        {
            builder.AdvertInterval = interval;
            builder.AdvertIntervalToken = statement.Arguments[0];
        }
    }

    private static readonly KeywordTable<Builder> AuthenticationTable = new("authentication")
    {
        { "auth_type", BindAuthType },
        { "auth_pass", BindAuthPass },
    };

    private static void BindAuthentication(Builder builder, Statement statement, BindContext context)
    {
        context.Arguments(statement, 0, 0, "authentication { … }");
        builder.AuthenticationLocation = statement.Location;
        AuthenticationTable.Bind(builder, statement.Block!.Statements, context);
    }

    private static void BindAuthType(Builder builder, Statement statement, BindContext context)
    {
        if (!context.Arguments(statement, 1, 1, "auth_type PASS"))
        {
            return;
        }

        Token type = statement.Arguments[0];
        if (type.Text.Equals("AH", StringComparison.OrdinalIgnoreCase))
        {
            context.Error(type.Location, "'auth_type AH' is not supported by VipProxy (IPsec AH was removed from VRRP by RFC 3768); use PASS or none");
            builder.AuthTypeRefused = true;
            return;
        }

        if (!type.Text.Equals("PASS", StringComparison.OrdinalIgnoreCase))
        {
            context.Error(type.Location, $"'auth_type' expects PASS, not '{type.Text}'");
            builder.AuthTypeRefused = true;
            return;
        }

        builder.AuthType = "PASS";
    }

    private static void BindAuthPass(Builder builder, Statement statement, BindContext context)
    {
        if (!context.Arguments(statement, 1, 1, "auth_pass SECRET"))
        {
            return;
        }

        Token password = statement.Arguments[0];
        int bytes = Encoding.UTF8.GetByteCount(password.Text);
        if (bytes > 8)
        {
            // keepalived silently uses the first 8 bytes, so two different long passwords can match.
            string first8 = Encoding.UTF8.GetString(Encoding.UTF8.GetBytes(password.Text), 0, 8);
            context.Error(password.Location, $"auth_pass is {bytes} bytes, but VRRP PASS authentication carries at most 8 (keepalived would silently use '{first8}')");
            return;
        }

        builder.AuthPassword = password.Text;
    }

    private static readonly Dictionary<string, string> Scopes = new(StringComparer.Ordinal)
    {
        ["global"] = "global", ["site"] = "site", ["link"] = "link", ["host"] = "host", ["nowhere"] = "nowhere",
    };

    // ADDR[/PREFIX] [brd ADDR] [dev IF] [scope SCOPE] [label LABEL], one per line.
    private static void BindVirtualIpAddresses(Builder builder, List<VirtualIpAddress> into, Statement statement, BindContext context)
    {
        context.Arguments(statement, 0, 0, $"{statement.Name} {{ … }}");
        foreach (Statement line in statement.Block!.Statements)
        {
            if (line.Block is not null)
            {
                context.Error(line.Block.OpenBrace, "a virtual_ipaddress line takes no block");
                continue;
            }

            if (TryReadVirtualIp(builder, line, context, out VirtualIpAddress? vip))
            {
                into.Add(vip);
            }
        }
    }

    // keepalived 2.2.7's address options beyond brd/dev/scope/label (vrrp_ipaddress.c, parse_ipaddress): refused with
    // the reason, or (Refused false) accepted with a warning because VipProxy already behaves that way.
    private static readonly Dictionary<string, (bool Refused, string Why)> KeepalivedVipOptions = new(StringComparer.Ordinal)
    {
        ["no_track"] = (false, "VipProxy does not watch its VIPs for removal, so every VIP already behaves as 'no_track'"),
        ["preferred_lft"] = (true, "address lifetimes are not implemented: VIPs are added with the kernel's defaults"),
        ["peer"] = (true, "point-to-point peer addresses are not implemented"),
        ["home"] = (true, "it is an IPv6 address flag, and VipProxy supports IPv4 only"),
        ["-nodad"] = (true, "it is an IPv6 address flag, and VipProxy supports IPv4 only"),
        ["nodad"] = (true, "it is an IPv6 address flag, and VipProxy supports IPv4 only"),
        ["mngtmpaddr"] = (true, "it is an IPv6 address flag, and VipProxy supports IPv4 only"),
        ["noprefixroute"] = (true, "VIPs are added with the kernel's prefix route"),
        ["autojoin"] = (true, "multicast VIPs are not implemented"),
        ["track_group"] = (true, "track groups are not implemented"),
        ["use_vmac"] = (true, "virtual MAC addresses are not implemented; VIPs are added to the interface itself"),
    };

    private static bool TryReadVirtualIp(Builder builder, Statement line, BindContext context, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out VirtualIpAddress? vip)
    {
        vip = null;
        string text = line.Keyword.Text;
        int slash = text.IndexOf('/', StringComparison.Ordinal);
        string addressText = slash < 0 ? text : text[..slash];
        bool ok = context.IPv4(line.Keyword with { Text = addressText }, "virtual_ipaddress", out IPAddress address);
        int prefix = 32;
        if (slash >= 0)
        {
            ok &= context.Integer(line.Keyword with { Text = text[(slash + 1)..] }, "virtual_ipaddress prefix length", 0, 32, out prefix);
        }

        IPAddress? broadcast = null;
        string? device = null, label = null, scope = "global";
        for (int i = 0; i < line.Arguments.Count; i++)
        {
            Token option = line.Arguments[i];
            if (KeepalivedVipOptions.TryGetValue(option.Text, out (bool Refused, string Why) known))
            {
                if (known.Refused)
                {
                    context.Error(option.Location, $"keepalived virtual_ipaddress option '{option.Text}' is not supported by VipProxy: {known.Why}");
                    return false;
                }

                context.Warning(option.Location, $"virtual_ipaddress option '{option.Text}' has no effect in VipProxy: {known.Why}");
                continue;
            }

            if (i + 1 >= line.Arguments.Count)
            {
                context.Error(option.Location, $"'{option.Text}' here needs a value; a virtual_ipaddress line is 'ADDR[/PREFIX] [brd ADDR] [dev IF] [scope SCOPE] [label LABEL]'");
                return false;
            }

            Token value = line.Arguments[++i];
            switch (option.Text)
            {
                case "brd" or "broadcast":
                    ok &= context.IPv4(value, "brd", out IPAddress brd);
                    broadcast = brd;
                    break;
                case "dev":
                    device = value.Text;
                    break;
                case "scope":
                    ok &= context.Choice(value, "scope", Scopes, out scope);
                    break;
                case "label":
                    label = value.Text;
                    break;
                default:
                    string? suggestion = KeywordSuggester.Suggest(option.Text, null, ["brd", "dev", "scope", "label"]);
                    context.Error(option.Location, $"unknown virtual_ipaddress option '{option.Text}'" + (suggestion is null ? "; expected brd, dev, scope or label" : $"; did you mean '{suggestion}'?"));
                    return false;
            }
        }

        string? labelDevice = device ?? builder.Interface;
        if (label is not null && labelDevice is not null && label != labelDevice && !label.StartsWith(labelDevice + ":", StringComparison.Ordinal))
        {
            // The kernel refuses an address label that does not start with the device name.
            context.Error(line.Location, $"label '{label}' must be '{labelDevice}' or start with '{labelDevice}:' (the kernel requires the device name)");
            ok = false;
        }

        if (!ok)
        {
            return false;
        }

        vip = new VirtualIpAddress(address, prefix, broadcast, device, scope!, label);
        return true;
    }

    private static void BindUnicastSource(Builder builder, Statement statement, BindContext context)
    {
        if (context.Arguments(statement, 1, 1, $"{statement.Name} ADDRESS") && context.IPv4(statement.Arguments[0], statement.Name, out IPAddress address))
        {
            builder.UnicastSourceIp = address;
        }
    }

    private static void BindUnicastPeers(Builder builder, Statement statement, BindContext context)
    {
        context.Arguments(statement, 0, 0, "unicast_peer { ADDRESS … }");
        foreach (Statement line in statement.Block!.Statements)
        {
            // keepalived 2.2.7 accepts min_ttl/max_ttl after a peer; VipProxy does not check the TTL of unicast adverts.
            if (line.Arguments.Count > 0 && line.Arguments[0].Text is "min_ttl" or "max_ttl")
            {
                context.Error(line.Arguments[0].Location, $"keepalived unicast_peer option '{line.Arguments[0].Text}' is not supported by VipProxy: the TTL of unicast adverts is not checked");
                continue;
            }

            if (line.Arguments.Count > 0)
            {
                context.Error(line.Arguments[0].Location, $"unexpected '{line.Arguments[0].Text}' after a unicast peer: write one address per line");
                continue;
            }

            if (context.IPv4(line.Keyword, "unicast_peer", out IPAddress peer))
            {
                if (builder.UnicastPeers.Contains(peer))
                {
                    context.Warning(line.Location, $"unicast peer {peer} is listed twice");
                    continue;
                }

                builder.UnicastPeers.Add(peer);
            }
        }
    }

    private static void BindTrackInterfaces(Builder builder, Statement statement, BindContext context)
    {
        context.Arguments(statement, 0, 0, "track_interface { IFNAME [weight N] }");
        foreach (Statement line in statement.Block!.Statements)
        {
            if (TryReadWeight(line, context, isScript: false, out int? weight))
            {
                builder.TrackInterfaces.Add(new TrackedInterface(line.Keyword.Text, weight ?? 0));
            }
        }
    }

    private static void BindTrackScripts(Builder builder, Statement statement, BindContext context)
    {
        context.Arguments(statement, 0, 0, "track_script { NAME [weight N] }");
        foreach (Statement line in statement.Block!.Statements)
        {
            if (TryReadWeight(line, context, isScript: true, out int? weight))
            {
                builder.TrackScripts.Add((new TrackedScript(line.Keyword.Text, weight), line.Location));
            }
        }
    }

    // NAME [weight N [reverse]] lines of track_interface and track_script.
    private static bool TryReadWeight(Statement line, BindContext context, bool isScript, out int? weight)
    {
        weight = null;
        if (line.Block is not null)
        {
            context.Error(line.Block.OpenBrace, $"'{line.Name}' takes no block here");
            return false;
        }

        if (line.Arguments.Count == 0)
        {
            return true;
        }

        if (line.Arguments[0].Text != "weight")
        {
            context.Error(line.Arguments[0].Location, $"unexpected '{line.Arguments[0].Text}' after '{line.Name}': only 'weight N' may follow it");
            return false;
        }

        if (line.Arguments.Count < 2)
        {
            context.Error(line.EndLocation, "'weight' needs a value from -254 to 254");
            return false;
        }

        // keepalived 2.2.7: "weight N reverse" turns the effect around, "noreverse" is the default.
        if (line.Arguments.Count == 3 && line.Arguments[2].Text == "reverse")
        {
            context.Error(line.Arguments[2].Location, $"keepalived's 'reverse' after a tracked {(isScript ? "script" : "interface")}'s weight is not supported by VipProxy"
                + (isScript ? ": write 'weight N reverse' in the vrrp_script itself" : ""));
            return false;
        }

        int end = line.Arguments.Count > 2 && line.Arguments[2].Text == "noreverse" ? 3 : 2;
        if (line.Arguments.Count > end)
        {
            context.Error(line.Arguments[end].Location, $"unexpected '{line.Arguments[end].Text}' after the weight");
            return false;
        }

        if (!context.Integer(line.Arguments[1], "weight", -254, 254, out int value))
        {
            return false;
        }

        weight = value;
        return true;
    }

    public static Builder Create(Statement statement, BindContext context)
    {
        string name = statement.Arguments.Count > 0 ? statement.Arguments[0].Text : "";
        context.Arguments(statement, 1, 1, "vrrp_instance NAME { … }");
        return new Builder(name, statement.Location);
    }
}
