using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;

namespace VipProxy.Host.Metrics;

/// <summary>
/// Renders the instruments of the given meters in the Prometheus text exposition format (version 0.0.4).
/// Observable instruments are read at scrape time; counters and histograms recorded on the data path are
/// accumulated here as they are measured.
/// </summary>
public sealed class PrometheusExporter : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly HashSet<string> _meters;
    private readonly Lock _gate = new();
    private readonly Dictionary<Instrument, Dictionary<string, double>> _values = [];
    private readonly Dictionary<Instrument, Dictionary<string, HistogramState>> _histograms = [];

    /// <summary>Bucket bounds in seconds, for durations from sub-millisecond connects to hour-long sessions.</summary>
    public static readonly double[] SecondsBuckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600];

    public PrometheusExporter(params string[] meters)
    {
        _meters = [.. meters];
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (_meters.Contains(instrument.Meter.Name))
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Record(instrument, value, tags));
        _listener.SetMeasurementEventCallback<int>((instrument, value, tags, _) => Record(instrument, value, tags));
        _listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => Record(instrument, value, tags));
        _listener.Start();
    }

    public string Scrape()
    {
        lock (_gate)
        {
            // Observable instruments report their current value: forget the previous scrape's series so a
            // removed virtual server disappears instead of repeating its last value forever.
            foreach (Instrument instrument in _values.Keys.Where(IsObservable).ToList())
            {
                _values[instrument].Clear();
            }
        }

        _listener.RecordObservableInstruments();
        var text = new StringBuilder();
        lock (_gate)
        {
            foreach ((Instrument instrument, Dictionary<string, double> series) in _values.OrderBy(e => e.Key.Name, StringComparer.Ordinal))
            {
                if (series.Count == 0)
                {
                    continue;
                }

                Header(text, instrument, IsCounter(instrument) ? "counter" : "gauge");
                foreach ((string labels, double value) in series.OrderBy(e => e.Key, StringComparer.Ordinal))
                {
                    text.Append(instrument.Name).Append(labels).Append(' ').Append(Format(value)).Append('\n');
                }
            }

            foreach ((Instrument instrument, Dictionary<string, HistogramState> series) in _histograms.OrderBy(e => e.Key.Name, StringComparer.Ordinal))
            {
                Header(text, instrument, "histogram");
                foreach ((string labels, HistogramState state) in series.OrderBy(e => e.Key, StringComparer.Ordinal))
                {
                    state.Render(text, instrument.Name, labels);
                }
            }
        }

        return text.ToString();
    }

    private void Record<T>(Instrument instrument, T value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        where T : struct, IConvertible
    {
        double number = value.ToDouble(CultureInfo.InvariantCulture);
        string labels = Labels(tags);
        lock (_gate)
        {
            if (instrument is Histogram<T>)
            {
                if (!_histograms.TryGetValue(instrument, out Dictionary<string, HistogramState>? series))
                {
                    _histograms[instrument] = series = [];
                }

                if (!series.TryGetValue(labels, out HistogramState? state))
                {
                    series[labels] = state = new HistogramState(SecondsBuckets);
                }

                state.Add(number);
                return;
            }

            if (!_values.TryGetValue(instrument, out Dictionary<string, double>? values))
            {
                _values[instrument] = values = [];
            }
            // Push counters add up; observable instruments and gauges report the current value.
            values[labels] = instrument is Counter<T> or UpDownCounter<T> ? values.GetValueOrDefault(labels) + number : number;
        }
    }

    private static bool IsObservable(Instrument instrument) => instrument.IsObservable;

    private static bool IsCounter(Instrument instrument) =>
        instrument is ObservableCounter<long> or ObservableCounter<int> or ObservableCounter<double> or Counter<long> or Counter<int> or Counter<double>;

    private static void Header(StringBuilder text, Instrument instrument, string type)
    {
        if (!string.IsNullOrEmpty(instrument.Description))
        {
            text.Append("# HELP ").Append(instrument.Name).Append(' ').Append(instrument.Description).Append('\n');
        }

        text.Append("# TYPE ").Append(instrument.Name).Append(' ').Append(type).Append('\n');
    }

    internal static string Labels(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (tags.Length == 0)
        {
            return "";
        }

        var sorted = tags.ToArray();
        Array.Sort(sorted, (a, b) => string.CompareOrdinal(a.Key, b.Key));
        var text = new StringBuilder("{");
        for (int i = 0; i < sorted.Length; i++)
        {
            if (i > 0)
            {
                text.Append(',');
            }

            text.Append(sorted[i].Key).Append("=\"").Append(Escape(Convert.ToString(sorted[i].Value, CultureInfo.InvariantCulture) ?? "")).Append('"');
        }

        return text.Append('}').ToString();
    }

    private static string Escape(string value) =>
        value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);

    internal static string Format(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    public void Dispose() => _listener.Dispose();

    private sealed class HistogramState(double[] bounds)
    {
        private readonly long[] _counts = new long[bounds.Length];
        private long _count;
        private double _sum;

        public void Add(double value)
        {
            for (int i = 0; i < bounds.Length; i++)
            {
                if (value <= bounds[i])
                {
                    _counts[i]++;
                }
            }

            _count++;
            _sum += value;
        }

        public void Render(StringBuilder text, string name, string labels)
        {
            string prefix = labels.Length == 0 ? "{" : labels[..^1] + ",";
            for (int i = 0; i < bounds.Length; i++)
            {
                text.Append(name).Append("_bucket").Append(prefix).Append("le=\"").Append(Format(bounds[i])).Append("\"} ").Append(_counts[i]).Append('\n');
            }

            text.Append(name).Append("_bucket").Append(prefix).Append("le=\"+Inf\"} ").Append(_count).Append('\n');
            text.Append(name).Append("_sum").Append(labels).Append(' ').Append(Format(_sum)).Append('\n');
            text.Append(name).Append("_count").Append(labels).Append(' ').Append(_count).Append('\n');
        }
    }
}
