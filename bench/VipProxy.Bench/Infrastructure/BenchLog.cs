using System.Globalization;

namespace VipProxy.Bench.Infrastructure;

/// <summary>
/// Two channels: the detailed log (every command, every line a daemon prints) goes to a file only, because a run
/// prints tens of thousands of lines; progress (one line per measurement) goes to the console and the file.
/// </summary>
internal sealed class BenchLog : IDisposable
{
    private readonly Lock _gate = new();
    private readonly StreamWriter _file;
    private readonly DateTime _started = DateTime.UtcNow;
    private bool _disposed;

    public BenchLog(string path)
    {
        Path = path;
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        _file = new StreamWriter(path, append: false) { AutoFlush = true };
    }

    public string Path { get; }

    /// <summary>Detail for the log file. Safe from any thread, and after disposal (a daemon may print late).</summary>
    public void Detail(string line)
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _file.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{Elapsed()} {line}"));
        }
    }

    /// <summary>A progress line for the person watching the run.</summary>
    public void Progress(string line)
    {
        var stamped = string.Create(CultureInfo.InvariantCulture, $"{Elapsed()} {line}");
        lock (_gate)
        {
            Console.Out.WriteLine(stamped);
            Console.Out.Flush();
            if (!_disposed)
            {
                _file.WriteLine("=== " + stamped);
            }
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _disposed = true;
            _file.Dispose();
        }
    }

    private string Elapsed()
    {
        var elapsed = DateTime.UtcNow - _started;
        return string.Create(CultureInfo.InvariantCulture, $"[{(int)elapsed.TotalMinutes:00}:{elapsed.Seconds:00}]");
    }
}
