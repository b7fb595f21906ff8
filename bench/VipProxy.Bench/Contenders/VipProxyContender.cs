using VipProxy.Bench.Infrastructure;
using VipProxy.Lab;

namespace VipProxy.Bench.Contenders;

/// <summary>
/// The product: the published Native AOT binary, `vipproxy run -f FILE --socket PATH`, with the connection log on
/// (its default), at its default of one event loop per CPU or with `forwarder_threads N`. A missing binary or one
/// that never listens fails this contender with its output, and the run carries on with the others.
/// </summary>
internal sealed class VipProxyContender(string binaryPath, int? threads = null)
    : ProxyContender(threads is { } n ? $"vipproxy-{n}t" : "vipproxy", threads is { } t ? $"VipProxy ({t} loop{(t == 1 ? "" : "s")})" : "VipProxy")
{
    public string BinaryPath { get; } = binaryPath;

    public override FailoverPair? CreateFailoverPair() => new VipProxyPair(BinaryPath);

    protected override LanProcess Launch(ContenderContext context, LanHost host, string directory)
    {
        EnsureBinary(BinaryPath);
        var configPath = Path.Combine(directory, "vipproxy.conf");
        File.WriteAllText(configPath,
            VipProxyConfig.Render(host.Address, context.Topology.RealServer.Address, context.Services, threads: threads));
        return host.Start(BinaryPath, Arguments(configPath, directory, host.Name), VipProxyConfig.Environment);
    }

    public static string[] Arguments(string configPath, string directory, string nodeId) =>
    [
        "run", "-f", configPath, "--socket", Path.Combine(directory, "vipproxy.sock"), "--node-id", nodeId,

        // Stopping is teardown here, not a drain scenario: do not let open connections delay the next contender.
        "--drain-timeout", "1",
    ];

    public static void EnsureBinary(string binaryPath)
    {
        if (!File.Exists(binaryPath))
        {
            throw new BenchFailureException(
                $"vipproxy binary not found at {binaryPath}: publish it with `bash scripts/publish.sh` (or run bench/run.sh --publish)");
        }
    }
}
