using System.Net;
using VipProxy.Config.Model;
using VipProxy.Config.Syntax;

namespace VipProxy.Config.Binding;

/// <summary><c>global_defs { … }</c>.</summary>
internal static class GlobalDefsBinder
{
    public sealed class Builder
    {
        public string? RouterId;
        public ScriptAccount? ScriptUser;
        public bool EnableScriptSecurity;
        public int VrrpVersion = GlobalDefinitions.Default.VrrpVersion;
        public GarpBuilder Garp = new();
        public bool SkipCheckAdvertAddresses;
        public IPAddress MulticastGroup = GlobalDefinitions.Default.MulticastGroup;
        public IPEndPoint? MetricsListen;
        public int? ForwarderThreads;
        public bool LogConnections = true;
        public string StateFile = GlobalDefinitions.DefaultStateFile;

        public GlobalDefinitions Build() => new(
            RouterId, ScriptUser, EnableScriptSecurity, VrrpVersion, Garp.Build(GarpSettings.Default), SkipCheckAdvertAddresses, MulticastGroup, MetricsListen)
        {
            ForwarderThreads = ForwarderThreads,
            LogConnections = LogConnections,
            StateFile = StateFile,
        };
    }

    private static readonly Dictionary<string, bool> OnOff = new(StringComparer.Ordinal) { ["on"] = true, ["off"] = false };

    public static readonly KeywordTable<Builder> Table = new("global_defs")
    {
        { "router_id", (b, s, c) => { if (c.Arguments(s, 1, 1, "router_id NAME")) { b.RouterId = s.Arguments[0].Text; } } },
        { "script_user", (b, s, c) => { if (c.Account(s, out var account)) { b.ScriptUser = account; } } },
        { "enable_script_security", (b, on) => b.EnableScriptSecurity = on },
        { "vrrp_version", (b, s, c) => { if (c.Arguments(s, 1, 1, "vrrp_version 2|3") && c.Integer(s.Arguments[0], s.Name, 2, 3, out int v)) { b.VrrpVersion = v; } } },
        { "vrrp_skip_check_adv_addr", (b, on) => b.SkipCheckAdvertAddresses = on },
        { "vrrp_mcast_group4", BindMulticastGroup },
        { "metrics_listen", BindMetricsListen },
        { "forwarder_threads", (b, s, c) => { if (c.Arguments(s, 1, 1, "forwarder_threads N") && c.Integer(s.Arguments[0], s.Name, 1, 1024, out int n)) { b.ForwarderThreads = n; } } },
        { "log_connections", (b, s, c) => { if (c.Arguments(s, 1, 1, "log_connections on|off") && c.Choice(s.Arguments[0], s.Name, OnOff, out bool on)) { b.LogConnections = on; } } },
        { "state_file", BindStateFile },
        { "vrrp_garp_master_delay", (b, s, c) => GarpBuilder.BindDelay(s, c, v => b.Garp.MasterDelay = v) },
        { "vrrp_garp_master_repeat", (b, s, c) => GarpBuilder.BindCount(s, c, v => b.Garp.MasterRepeat = v) },
        { "vrrp_garp_master_refresh", (b, s, c) => GarpBuilder.BindDelay(s, c, v => b.Garp.MasterRefresh = v) },
        { "vrrp_garp_master_refresh_repeat", (b, s, c) => GarpBuilder.BindCount(s, c, v => b.Garp.MasterRefreshRepeat = v) },
        { "vrrp_garp_interval", (b, s, c) => GarpBuilder.BindInterval(s, c, v => b.Garp.Interval = v) },
        { "vrrp_garp_lower_prio_delay", (b, s, c) => GarpBuilder.BindDelay(s, c, v => b.Garp.LowerPriorityDelay = v) },
        { "vrrp_garp_lower_prio_repeat", (b, s, c) => GarpBuilder.BindCount(s, c, v => b.Garp.LowerPriorityRepeat = v) },
    };

    // "metrics_listen PORT" listens on loopback; an address must be written out to expose metrics further.
    private static void BindMetricsListen(Builder builder, Statement statement, BindContext context)
    {
        if (!context.Arguments(statement, 1, 2, "metrics_listen [ADDRESS] PORT"))
        {
            return;
        }

        IPAddress address = IPAddress.Loopback;
        if (statement.Arguments.Count == 2 && !context.IPv4(statement.Arguments[0], "metrics_listen address", out address))
        {
            return;
        }

        if (context.Port(statement.Arguments[^1], "metrics_listen port", out int port))
        {
            builder.MetricsListen = new IPEndPoint(address, port);
        }
    }

    // The operator's runtime state (drain, disable, weight, demote) is written here; an absolute path, so a daemon
    // started from another directory finds the same file after a restart.
    private static void BindStateFile(Builder builder, Statement statement, BindContext context)
    {
        if (!context.Arguments(statement, 1, 1, "state_file PATH"))
        {
            return;
        }

        string path = statement.Arguments[0].Text;
        if (!path.StartsWith('/'))
        {
            context.Error(statement.Arguments[0].Location, $"state_file {path} must be an absolute path");
            return;
        }

        builder.StateFile = path;
    }

    private static void BindMulticastGroup(Builder builder, Statement statement, BindContext context)
    {
        if (!context.Arguments(statement, 1, 1, "vrrp_mcast_group4 224.0.0.18")
            || !context.IPv4(statement.Arguments[0], "vrrp_mcast_group4", out IPAddress group))
        {
            return;
        }

        if ((group.GetAddressBytes()[0] & 0xF0) != 0xE0)
        {
            context.Error(statement.Arguments[0].Location, $"vrrp_mcast_group4 {group} is not a multicast address (224.0.0.0/4)");
            return;
        }

        builder.MulticastGroup = group;
    }
}

/// <summary>
/// Gratuitous ARP settings, shared by global <c>vrrp_garp_*</c> and per-instance <c>garp_*</c>: an instance's
/// unset values fall back to the global ones, and those to keepalived's defaults.
/// </summary>
internal sealed class GarpBuilder
{
    public TimeSpan? MasterDelay;
    public int? MasterRepeat;
    public TimeSpan? MasterRefresh;
    public int? MasterRefreshRepeat;
    public TimeSpan? Interval;
    public TimeSpan? LowerPriorityDelay;
    public int? LowerPriorityRepeat;

    public GarpSettings Build(GarpSettings fallback) => new(
        MasterDelay ?? fallback.MasterDelay,
        MasterRepeat ?? fallback.MasterRepeat,
        MasterRefresh ?? fallback.MasterRefresh,
        MasterRefreshRepeat ?? fallback.MasterRefreshRepeat,
        Interval ?? fallback.Interval,
        LowerPriorityDelay ?? fallback.LowerPriorityDelay,
        LowerPriorityRepeat ?? fallback.LowerPriorityRepeat);

    public static void BindDelay(Statement statement, BindContext context, Action<TimeSpan> set)
    {
        if (context.Arguments(statement, 1, 1, $"{statement.Name} SECONDS") && context.Integer(statement.Arguments[0], statement.Name, 0, 86_400, out int seconds))
        {
            set(TimeSpan.FromSeconds(seconds));
        }
    }

    public static void BindCount(Statement statement, BindContext context, Action<int> set)
    {
        if (context.Arguments(statement, 1, 1, $"{statement.Name} COUNT") && context.Integer(statement.Arguments[0], statement.Name, 0, 255, out int count))
        {
            set(count);
        }
    }

    public static void BindInterval(Statement statement, BindContext context, Action<TimeSpan> set)
    {
        if (context.Arguments(statement, 1, 1, $"{statement.Name} SECONDS") && context.Seconds(statement.Arguments[0], statement.Name, 0, 1, out TimeSpan interval))
        {
            set(interval);
        }
    }
}
