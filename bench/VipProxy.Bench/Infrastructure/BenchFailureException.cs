namespace VipProxy.Bench.Infrastructure;

/// <summary>
/// A measurement could not be taken (a proxy did not start, a tool failed). The run records it against that
/// contender and carries on with the others; <see cref="LogTail"/> holds the last lines the failing program
/// printed, so the report says why without opening the log.
/// </summary>
internal sealed class BenchFailureException : Exception
{
    private const int MaxLogTail = 16;

    public BenchFailureException(string message, IReadOnlyList<string>? output = null, Exception? inner = null)
        : base(message, inner)
    {
        LogTail = output is null ? [] : [.. output.TakeLast(MaxLogTail)];
    }

    public BenchFailureException()
        : this("benchmark step failed")
    {
    }

    public BenchFailureException(string message)
        : this(message, null, null)
    {
    }

    public BenchFailureException(string message, Exception inner)
        : this(message, null, inner)
    {
    }

    public IReadOnlyList<string> LogTail { get; }
}
