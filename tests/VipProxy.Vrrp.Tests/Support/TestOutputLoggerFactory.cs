using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace VipProxy.Vrrp.Tests.Support;

/// <summary>Logs to the xunit output, prefixed with a node name.</summary>
internal sealed class TestOutputLoggerFactory(ITestOutputHelper output, string node) : ILoggerFactory
{
    public ILogger CreateLogger(string categoryName) => new Logger(output, node);

    public void AddProvider(ILoggerProvider provider)
    {
    }

    public void Dispose()
    {
    }

    private sealed class Logger(ITestOutputHelper output, string node) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            try
            {
                output.WriteLine($"{DateTime.Now:HH:mm:ss.fff} [{node}] {logLevel}: {formatter(state, exception)}{(exception is null ? "" : " " + exception.Message)}");
            }
            catch (InvalidOperationException)
            {
                // The test already finished.
            }
        }
    }
}
