using System.Net;
using Microsoft.Extensions.Logging;
using VipProxy.Forwarding.Relay;
using VipProxy.Forwarding.Runtime;

namespace VipProxy.Host;

/// <summary>
/// <c>shutdown_sessions_on_down GRACE</c>: once a real server is out of its pool (health down, fenced off as a second
/// writer, or disabled by an operator), its established connections are closed after the grace if it is still out.
/// A pooled MySQL client then reconnects through the VIP to the new writer instead of writing to a demoted primary
/// (HAProxy's <c>on-marked-down shutdown-sessions</c>). The closes run on the connections' own loops; each is
/// recorded with <see cref="CloseReason.SessionsShutdown"/>.
/// </summary>
internal sealed partial class SessionShutdown(ILogger logger, TimeProvider timeProvider)
{
    /// <summary>Closes the server's sessions after <paramref name="grace"/> unless <paramref name="stillOut"/> says it is
    /// back by then. Returns at once.</summary>
    public void After(VirtualServerRuntime runtime, IPEndPoint realServer, TimeSpan grace, Func<bool> stillOut, string why) =>
        _ = RunAsync(runtime, realServer, grace, stillOut, why);

    private async Task RunAsync(VirtualServerRuntime runtime, IPEndPoint realServer, TimeSpan grace, Func<bool> stillOut, string why)
    {
        try
        {
            if (grace > TimeSpan.Zero)
            {
                await Task.Delay(grace, timeProvider).ConfigureAwait(false);
            }

            if (!stillOut())
            {
                LogBackInTime(logger, realServer, runtime.Endpoint, grace.TotalSeconds);
                return;
            }

            int closed = await runtime.CloseConnectionsToAsync(realServer, CloseReason.SessionsShutdown).ConfigureAwait(false);
            LogClosed(logger, realServer, runtime.Endpoint, why, closed);
        }
        catch (ObjectDisposedException)
        {
            // The virtual server was removed by a reload meanwhile: its connections went with it.
        }
    }

    [LoggerMessage(EventId = 305, Level = LogLevel.Warning, Message = "real_server {RealServer} of virtual_server {VirtualServer} is {Why}: shutdown_sessions_on_down closed {Closed} established connection(s)")]
    private static partial void LogClosed(ILogger logger, IPEndPoint realServer, IPEndPoint virtualServer, string why, int closed);

    [LoggerMessage(EventId = 306, Level = LogLevel.Information, Message = "real_server {RealServer} of virtual_server {VirtualServer} was back within its shutdown_sessions_on_down grace of {Grace} s: its connections continue")]
    private static partial void LogBackInTime(ILogger logger, IPEndPoint realServer, IPEndPoint virtualServer, double grace);
}
