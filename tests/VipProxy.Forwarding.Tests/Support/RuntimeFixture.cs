using System.Net;
using VipProxy.Config.Model;
using VipProxy.Forwarding.Relay;
using VipProxy.Forwarding.Runtime;

namespace VipProxy.Forwarding.Tests.Support;

/// <summary>Starts a runtime on loopback with a capturing logger and a recording sink.</summary>
internal static class TestRuntime
{
    public static async Task<(VirtualServerRuntime Runtime, CapturingLogger Log, RecordingFailureSink Sink)> StartAsync(
        VirtualServer config, RelayKind relay = RelayFactory.DefaultKind, ForwarderOptions? options = null, TimeProvider? timeProvider = null)
    {
        var log = new CapturingLogger();
        var sink = new RecordingFailureSink();
        var runtime = new VirtualServerRuntime(config, (options ?? ForwarderOptions.Default) with { Relay = relay }, sink, log, timeProvider);
        await runtime.StartAsync();
        return (runtime, log, sink);
    }

    public static IPEndPoint Address(this VirtualServerRuntime runtime) => runtime.LocalEndpoint!;
}
