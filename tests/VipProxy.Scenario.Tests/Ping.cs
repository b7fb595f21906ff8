using System.Net;
using VipProxy.Lab;

namespace VipProxy.Scenario.Tests;

internal static class Ping
{
    /// <summary>
    /// One echo with a 2 s wait. Exit 1 means no reply; anything else that is not success (ping missing, bad
    /// argument) fails the test loudly rather than reading as "unreachable".
    /// </summary>
    public static async Task<bool> ReachesAsync(LanHost from, IPAddress to, params string[] extraArguments)
    {
        var result = await from.RunAsync("ping", ["-c", "1", "-W", "2", .. extraArguments, to.ToString()],
            TimeSpan.FromSeconds(10));
        Assert.True(result.ExitCode is 0 or 1, $"ping could not run (exit {result.ExitCode}): {result}");
        return result.Succeeded;
    }
}
