namespace VipProxy.Lab;

/// <summary>
/// Wraps the test's log sink. xunit's ITestOutputHelper throws once its test has finished, yet a daemon may print
/// after that (or during disposal), and a log line must never crash the output reader or the teardown.
/// </summary>
internal sealed class SafeLog(Action<string> sink)
{
    public void Write(string line)
    {
        try
        {
            sink(line);
        }
#pragma warning disable CA1031 // A broken log sink must not break the test infrastructure.
        catch (Exception)
#pragma warning restore CA1031
        {
        }
    }
}
