using System.Net;
using VipProxy.Config.Model;
using VipProxy.HealthChecks.Probes;

namespace VipProxy.HealthChecks.Tests.Support;

/// <summary>Checker settings and targets for tests, with keepalived's defaults unless overridden.</summary>
internal static class Settings
{
    public static CheckSettings Check(
        double connectTimeout = 2, int retry = 1, double delayBeforeRetry = 1, double warmup = 0, double delayLoop = 60,
        IPAddress? connectIp = null, int? connectPort = null, IPAddress? bindTo = null) =>
        new(connectIp, connectPort, bindTo, TimeSpan.FromSeconds(connectTimeout), retry,
            TimeSpan.FromSeconds(delayBeforeRetry), TimeSpan.FromSeconds(warmup), TimeSpan.FromSeconds(delayLoop));

    public static ProbeTarget Target(IPEndPoint endpoint, double timeoutSeconds = 2, IPAddress? bindTo = null) =>
        new(endpoint, bindTo, TimeSpan.FromSeconds(timeoutSeconds));

    public static ScriptCommand Command(params string[] words) => new(string.Join(' ', words), new(words));
}
