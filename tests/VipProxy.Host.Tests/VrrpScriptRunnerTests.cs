using Microsoft.Extensions.Logging.Abstractions;
using VipProxy.Config.Model;
using VipProxy.Vrrp.Runtime;

namespace VipProxy.Host.Tests;

/// <summary>
/// vrrp_script checks and VRRP notify scripts follow the same keepalived rules as MISC_CHECK: with
/// enable_script_security a script that someone other than root could modify is never run as root.
/// </summary>
[Trait("Category", "Root")]
public sealed class VrrpScriptRunnerTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("vipproxy-vrrp-scripts-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static GlobalDefinitions Global(bool secure) =>
        GlobalDefinitions.Default with { ScriptUser = new ScriptAccount("root", null), EnableScriptSecurity = secure };

    /// <summary>A script that leaves a marker file, so the test sees whether it really ran.</summary>
    private (string Script, string Marker) Script(string name, UnixFileMode mode)
    {
        string script = Path.Combine(_dir, name);
        string marker = script + ".ran";
        File.WriteAllText(script, $"#!/bin/sh\ntouch '{marker}'\nexit 0\n");
        File.SetUnixFileMode(_dir, (UnixFileMode)0b111_101_101);
        File.SetUnixFileMode(script, mode);
        return (script, marker);
    }

    [Fact]
    public async Task Enable_script_security_refuses_a_world_writable_vrrp_script_and_it_never_runs()
    {
        var (script, marker) = Script("weak.sh", (UnixFileMode)0b111_111_111);
        var secure = new VrrpScriptRunner(Global(secure: true), NullLogger.Instance, TimeProvider.System);

        VrrpScriptResult outcome = await secure.RunAsync(new ScriptInvocation([script], null, TimeSpan.FromSeconds(5)), CancellationToken.None);

        Assert.Equal(VrrpScriptResult.NotStarted, outcome);
        Assert.False(File.Exists(marker), "the refused script ran");
    }

    [Fact]
    public async Task A_reload_that_turns_script_security_off_lets_the_same_script_run()
    {
        var (script, marker) = Script("weak.sh", (UnixFileMode)0b111_111_111);
        var runner = new VrrpScriptRunner(Global(secure: true), NullLogger.Instance, TimeProvider.System);
        var invocation = new ScriptInvocation([script], null, TimeSpan.FromSeconds(5));
        Assert.Equal(VrrpScriptResult.NotStarted, await runner.RunAsync(invocation, CancellationToken.None));

        runner.Use(Global(secure: false));

        Assert.Equal(VrrpScriptResult.Succeeded, await runner.RunAsync(invocation, CancellationToken.None));
        Assert.True(File.Exists(marker));
    }

    [Fact]
    public async Task A_root_owned_script_in_a_safe_path_runs_and_exit_codes_and_timeouts_map_to_outcomes()
    {
        var (script, marker) = Script("safe.sh", (UnixFileMode)0b111_101_101);
        var runner = new VrrpScriptRunner(Global(secure: true), NullLogger.Instance, TimeProvider.System);

        Assert.Equal(VrrpScriptResult.Succeeded, await runner.RunAsync(new ScriptInvocation([script], null, TimeSpan.FromSeconds(5)), CancellationToken.None));
        Assert.True(File.Exists(marker));
        Assert.Equal(VrrpScriptResult.Failed, await runner.RunAsync(new ScriptInvocation(["/bin/false"], null, TimeSpan.FromSeconds(5)), CancellationToken.None));
        Assert.Equal(VrrpScriptResult.TimedOut, await runner.RunAsync(new ScriptInvocation(["/bin/sleep", "5"], null, TimeSpan.FromMilliseconds(200)), CancellationToken.None));
        Assert.Equal(VrrpScriptResult.NotStarted, await runner.RunAsync(new ScriptInvocation(["/nonexistent/check"], null, TimeSpan.FromSeconds(1)), CancellationToken.None));
        // No shell: "x; false" reaches `test` as one word, so the comparison is true.
        Assert.Equal(VrrpScriptResult.Succeeded, await runner.RunAsync(new ScriptInvocation(["/usr/bin/test", "x; false", "=", "x; false"], null, TimeSpan.FromSeconds(5)), CancellationToken.None));
    }
}
