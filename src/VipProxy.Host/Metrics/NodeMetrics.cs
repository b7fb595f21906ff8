using System.Diagnostics.Metrics;
using VipProxy.Host.Status;

namespace VipProxy.Host.Metrics;

/// <summary>
/// The node's figures as System.Diagnostics.Metrics instruments (meter "VipProxy"), so both dotnet-counters and
/// the Prometheus endpoint see them. They are observable instruments read from the same status report that
/// <c>vipproxy status</c> prints, so the two can never disagree and the data path pays nothing for them.
/// </summary>
public sealed class NodeMetrics : IDisposable
{
    public const string MeterName = "VipProxy";

    private static readonly string[] VrrpStates = ["MASTER", "BACKUP", "FAULT", "INIT"];

    private readonly Meter _meter = new(MeterName);
    private readonly Func<StatusReport> _status;
    private readonly Lock _gate = new();
    private StatusReport? _cached;
    private long _cachedAt;

    public NodeMetrics(Func<StatusReport> status)
    {
        _status = status;
        Gauge("vipproxy_vrrp_state", "1 for the state each VRRP instance is in, 0 for the others.", r =>
            r.VrrpInstances.SelectMany(i => VrrpStates.Select(s => Measure(i.State == s ? 1 : 0, ("instance", i.Name), ("state", s)))));
        Gauge("vipproxy_vrrp_effective_priority", "Priority carried in adverts (configured priority adjusted by tracking).", r =>
            r.VrrpInstances.Select(i => Measure(i.EffectivePriority, ("instance", i.Name))));
        Gauge("vipproxy_vrrp_vips_held", "VIPs this node holds for the instance.", r =>
            r.VrrpInstances.Select(i => Measure(i.VipsHeld.Count, ("instance", i.Name))));
        Counter("vipproxy_vrrp_transitions_total", "State transitions of the instance.", r =>
            r.VrrpInstances.Select(i => Measure(i.Transitions, ("instance", i.Name))));
        Counter("vipproxy_vrrp_adverts_sent_total", "VRRP adverts sent.", r =>
            r.VrrpInstances.Select(i => Measure(i.AdvertsSent, ("instance", i.Name))));
        Counter("vipproxy_vrrp_adverts_received_total", "VRRP adverts received and accepted.", r =>
            r.VrrpInstances.Select(i => Measure(i.AdvertsReceived, ("instance", i.Name))));
        Counter("vipproxy_vrrp_dropped_packets_total", "Received VRRP packets dropped, by reason.", r =>
            r.VrrpInstances.SelectMany(i => i.DropCounters.Select(d => Measure(d.Value, ("instance", i.Name), ("reason", d.Key)))));

        // haproxy and Prometheus's own convention: the reload outcome as a 0/1 gauge and its time, so an alert
        // can say "the file on disk is not what runs" without parsing logs. Before any reload, the start counts
        // as a successful load of the file.
        Gauge("vipproxy_config_last_reload_successful", "1 if the last configuration reload was applied (or none was attempted), 0 if it was refused.", r =>
            [Measure(r.LastReload is { Applied: false } ? 0 : 1)]);
        Gauge("vipproxy_config_last_reload_timestamp_seconds", "Unix time of the last reload attempt, or of the start if none.", r =>
            [Measure((r.LastReload?.At ?? r.StartedAt).ToUnixTimeSeconds())]);

        Gauge("vipproxy_virtual_server_quorum", "1 while the virtual server has its quorum of healthy real servers.", r =>
            r.VirtualServers.Select(v => Measure(v.QuorumUp ? 1 : 0, VirtualServer(v))));
        Gauge("vipproxy_virtual_server_connections_active", "Open client connections.", r =>
            r.VirtualServers.Select(v => Measure(v.ActiveConnections, VirtualServer(v))));
        Counter("vipproxy_virtual_server_connections_total", "Client connections accepted.", r =>
            r.VirtualServers.Select(v => Measure(v.TotalConnections, VirtualServer(v))));
        Counter("vipproxy_virtual_server_refused_total", "Clients refused (maxconn, per-source limits, or no real server).", r =>
            r.VirtualServers.Select(v => Measure(v.RefusedConnections, VirtualServer(v))));
        Counter("vipproxy_virtual_server_source_refused_total", "Clients refused by a per-source limit (maxconn_per_source or conn_rate_per_source).", r =>
            r.VirtualServers.SelectMany(v => new[]
            {
                Measure(v.SourceLimitRefused, VirtualServer(v), ("limit", "maxconn_per_source")),
                Measure(v.SourceRateRefused, VirtualServer(v), ("limit", "conn_rate_per_source")),
            }));
        Gauge("vipproxy_virtual_server_writer_conflict", "1 while more than one MYSQL_CHECK role primary server of the virtual server reports writable.", r =>
            r.VirtualServers.Select(v => Measure(v.WriterConflict == true ? 1 : 0, VirtualServer(v))));
        Counter("vipproxy_virtual_server_writer_conflicts_total", "Writer conflicts begun: more than one role primary server reported writable.", r =>
            r.VirtualServers.Select(v => Measure(v.WriterConflicts, VirtualServer(v))));
        Gauge("vipproxy_virtual_server_tracked_sources", "Client IPs held by the per-source admission table.", r =>
            r.VirtualServers.Select(v => Measure(v.TrackedSources, VirtualServer(v))));

        Gauge("vipproxy_real_server_up", "1 while the real server passes its health checks.", r =>
            RealServers(r, s => s.Up ? 1 : 0));
        Gauge("vipproxy_real_server_weight", "Weight the scheduler uses now (0 when down or draining).", r =>
            RealServers(r, s => s.Weight));
        Gauge("vipproxy_real_server_connections_active", "Established proxied connections.", r =>
            RealServers(r, s => s.ActiveConnections));
        Gauge("vipproxy_real_server_connections_inactive", "Half-closed proxied connections.", r =>
            RealServers(r, s => s.InactiveConnections));
        Counter("vipproxy_real_server_connections_total", "Connections forwarded to the real server.", r =>
            RealServers(r, s => s.TotalConnections));
        Counter("vipproxy_real_server_bytes_in_total", "Bytes forwarded to the real server.", r =>
            RealServers(r, s => s.BytesIn));
        Counter("vipproxy_real_server_bytes_out_total", "Bytes received from the real server.", r =>
            RealServers(r, s => s.BytesOut));
        Counter("vipproxy_real_server_failed_connects_total", "Forwarder connects to the real server that failed.", r =>
            RealServers(r, s => s.FailedConnects));
    }

    private void Gauge(string name, string help, Func<StatusReport, IEnumerable<Measurement<long>>> read) =>
        _meter.CreateObservableGauge(name, () => read(Snapshot()), unit: null, description: help);

    private void Counter(string name, string help, Func<StatusReport, IEnumerable<Measurement<long>>> read) =>
        _meter.CreateObservableCounter(name, () => read(Snapshot()), unit: null, description: help);

    // One scrape reads every instrument in a row: build the report once for all of them.
    private StatusReport Snapshot()
    {
        lock (_gate)
        {
            long now = Environment.TickCount64;
            if (_cached is null || now - _cachedAt > 250)
            {
                _cached = _status();
                _cachedAt = now;
            }

            return _cached;
        }
    }

    private static IEnumerable<Measurement<long>> RealServers(StatusReport report, Func<RealServerReport, long> value) =>
        report.VirtualServers.SelectMany(v => v.RealServers.Select(s =>
            Measure(value(s), ("virtual_server", $"{v.Address}:{v.Port}"), ("real_server", $"{s.Address}:{s.Port}"))));

    private static (string, string) VirtualServer(VirtualServerReport v) => ("virtual_server", $"{v.Address}:{v.Port}");

    private static Measurement<long> Measure(long value, params (string Key, string Value)[] tags) =>
        new(value, tags.Select(t => new KeyValuePair<string, object?>(t.Key, t.Value)));

    public void Dispose() => _meter.Dispose();
}
