using System.Diagnostics;
using VipProxy.Host.Platform;

namespace VipProxy.Host.Tests;

/// <summary>A <c>transparent</c> virtual server needs CAP_NET_ADMIN (IP_TRANSPARENT): <c>vipproxy run</c> refuses to
/// start without it and says so; <c>vipproxy check</c> warns.</summary>
[Trait("Category", "Root")]
public sealed class TransparentPrerequisiteTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("vipproxy-transparent-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void Transparent_alone_needs_cap_net_admin_and_says_what_for()
    {
        IReadOnlyList<string> missing = Capabilities.Missing(0, needsVrrp: false, needsLowPorts: false, needsTransparent: true);
        string only = Assert.Single(missing);
        Assert.StartsWith("CAP_NET_ADMIN", only, StringComparison.Ordinal);
        Assert.Contains("IP_TRANSPARENT", only, StringComparison.Ordinal);
    }

    [Fact]
    public void Vrrp_and_transparent_name_cap_net_admin_once_with_both_reasons()
    {
        IReadOnlyList<string> missing = Capabilities.Missing(0, needsVrrp: true, needsLowPorts: false, needsTransparent: true);
        Assert.Equal(2, missing.Count);
        string admin = Assert.Single(missing, m => m.StartsWith("CAP_NET_ADMIN", StringComparison.Ordinal));
        Assert.Contains("VIPs", admin, StringComparison.Ordinal);
        Assert.Contains("IP_TRANSPARENT", admin, StringComparison.Ordinal);
    }

    [Fact]
    public void Root_in_this_test_run_may_bind_transparently()
    {
        Assert.Null(TransparentSockets.Probe());
    }

    [Fact]
    public async Task Run_without_cap_net_admin_refuses_to_start_and_names_the_capability()
    {
        string config = WriteConfig();
        var (exitCode, _, errors) = await RunWithoutNetAdminAsync("run", "-f", config, "--socket", Path.Combine(_directory, "control.sock"));
        Assert.Equal(Daemon.ExitMissingPrerequisite, exitCode);
        Assert.Contains("cannot start: missing capability CAP_NET_ADMIN (for transparent virtual servers", errors, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Check_without_cap_net_admin_stays_valid_but_warns()
    {
        string config = WriteConfig();
        var (exitCode, output, errors) = await RunWithoutNetAdminAsync("check", "-f", config);
        Assert.Equal(0, exitCode);
        Assert.Contains("configuration is valid", output, StringComparison.Ordinal);
        Assert.Contains("warning: virtual_server 127.0.0.1 18080: this process lacks CAP_NET_ADMIN", errors, StringComparison.Ordinal);
        Assert.Contains("note: virtual_server 127.0.0.1 18080 is transparent", errors, StringComparison.Ordinal);
    }

    private string WriteConfig()
    {
        string path = Path.Combine(_directory, "keepalived.conf");
        File.WriteAllText(path, """
            virtual_server 127.0.0.1 18080 {
                lb_algo rr
                lb_kind NAT
                protocol TCP
                transparent
                real_server 127.0.0.1 18081 {
                }
            }
            """);
        return path;
    }

    /// <summary>The CLI with CAP_NET_ADMIN removed from the bounding set (setpriv, util-linux): root then execs
    /// without it, as a service whose unit grants only the other capabilities would.</summary>
    private static async Task<(int ExitCode, string Output, string Errors)> RunWithoutNetAdminAsync(params string[] arguments)
    {
        string dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";
        var start = new ProcessStartInfo("setpriv")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (string argument in (string[])["--bounding-set", "-net_admin", dotnet, Path.Combine(AppContext.BaseDirectory, "vipproxy.dll"), .. arguments])
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        Task<string> output = process.StandardOutput.ReadToEndAsync(timeout.Token);
        Task<string> errors = process.StandardError.ReadToEndAsync(timeout.Token);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill();
            throw;
        }

        return (process.ExitCode, await output, await errors);
    }
}
