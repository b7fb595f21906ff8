using System.Net;
using VipProxy.Config.Model;
using VipProxy.Forwarding.Runtime;

namespace VipProxy.Forwarding.Tests.Support;

/// <summary>
/// The shapes of the data path the relay contract runs against: one loop or two (connections spread by
/// SO_REUSEPORT), and a copy buffer so small that nearly every burst switches to splice.
/// </summary>
public enum DataPath
{
    /// <summary>The product's defaults on one loop: copy small messages, splice bulk bursts.</summary>
    OneLoop,

    /// <summary>Two loops, the default read size.</summary>
    TwoLoops,

    /// <summary>Two loops with a 512-byte copy buffer: reads fill it at once, so bulk goes through kernel pipes.</summary>
    SpliceEager,
}

/// <summary>Starts a runtime on loopback with a capturing logger and a recording sink.</summary>
internal static class TestRuntime
{
    public static TheoryData<DataPath> DataPaths => new() { DataPath.OneLoop, DataPath.TwoLoops, DataPath.SpliceEager };

    public static ForwarderOptions For(DataPath path, ForwarderOptions? options = null) => (options ?? ForwarderOptions.Default) with
    {
        Threads = path == DataPath.OneLoop ? 1 : 2,
        CopySize = path == DataPath.SpliceEager ? 512 : VipProxy.Forwarding.Loop.EventLoop.DefaultCopySize,
    };

    public static async Task<(VirtualServerRuntime Runtime, CapturingLogger Log, RecordingFailureSink Sink)> StartAsync(
        VirtualServer config, DataPath path = DataPath.TwoLoops, ForwarderOptions? options = null, TimeProvider? timeProvider = null)
    {
        var log = new CapturingLogger();
        var sink = new RecordingFailureSink();
        var runtime = new VirtualServerRuntime(config, For(path, options), sink, log, timeProvider);
        await runtime.StartAsync();
        return (runtime, log, sink);
    }

    public static IPEndPoint Address(this VirtualServerRuntime runtime) => runtime.LocalEndpoint!;

    /// <summary>The live connections (through the loops' mailboxes).</summary>
    public static IReadOnlyList<ConnectionStatus> Connections(this VirtualServerRuntime runtime) =>
        runtime.GetConnectionsAsync().WaitAsync(TestClient.Deadline).GetAwaiter().GetResult();
}
