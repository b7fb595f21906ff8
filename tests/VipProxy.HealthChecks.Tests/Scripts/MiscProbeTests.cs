using System.Diagnostics;
using VipProxy.Config.Model;
using VipProxy.HealthChecks.Probes;
using VipProxy.HealthChecks.Scripts;
using VipProxy.HealthChecks.Tests.Support;

namespace VipProxy.HealthChecks.Tests.Scripts;

[Trait("Category", "Root")]
public sealed class MiscProbeTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private static MiscProbe Probe(ScriptCommand command, double timeout = 5, bool dynamic = false,
        ScriptAccount? user = null, ScriptSettings? settings = null) =>
        new(new MiscCheck(Settings.Check(connectTimeout: timeout, retry: 0), command, TimeSpan.FromSeconds(timeout), dynamic, user),
            new ScriptRunner(settings ?? new ScriptSettings(new ScriptAccount("root", null), false)));

    [Theory]
    [InlineData(0, true)]
    [InlineData(1, false)]
    [InlineData(7, false)] // without misc_dynamic every non-zero code is down
    public async Task Exit_code_zero_is_up(int code, bool up)
    {
        string script = _dir.Script("exit.sh", $"echo checked; exit {code}");

        ProbeResult result = await Probe(Settings.Command(script)).ProbeAsync(CancellationToken.None);

        Assert.Equal(up, result.IsUp);
        Assert.Contains($"exited with {code}: checked", result.Reason, StringComparison.Ordinal);
        Assert.Null(result.DynamicWeight);
    }

    [Theory]
    [InlineData(0, true, null)]
    [InlineData(1, false, null)]
    [InlineData(2, true, 0)]
    [InlineData(7, true, 5)]
    [InlineData(255, true, 253)]
    public async Task Misc_dynamic_sets_the_weight_to_exit_code_minus_two(int code, bool up, int? weight)
    {
        string script = _dir.Script("dynamic.sh", $"exit {code}");

        ProbeResult result = await Probe(Settings.Command(script), dynamic: true).ProbeAsync(CancellationToken.None);

        Assert.Equal(up, result.IsUp);
        Assert.Equal(weight, result.DynamicWeight);
    }

    [Fact]
    public async Task Arguments_are_passed_as_they_are_without_a_shell()
    {
        string script = _dir.Script("args.sh", "echo \"$#|$1|$2\"; exit 0");

        ProbeResult result = await Probe(new ScriptCommand("x", new([script, "a b", "$HOME;id"]))).ProbeAsync(CancellationToken.None);

        Assert.EndsWith(": 2|a b|$HOME;id", result.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Script_past_misc_timeout_is_killed_and_down()
    {
        string pidFile = Path.Combine(_dir.Path, "pid");
        string script = _dir.Script("hang.sh", $"echo $$ > {pidFile}; exec sleep 30");
        var watch = Stopwatch.StartNew();

        ProbeResult result = await Probe(Settings.Command(script), timeout: 0.5).ProbeAsync(CancellationToken.None);

        Assert.False(result.IsUp);
        Assert.Contains("still running after 0.5 s: killed", result.Reason, StringComparison.Ordinal);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(3), $"took {watch.Elapsed}");
        int pid = int.Parse(File.ReadAllText(pidFile).Trim());
        await Eventually.TrueAsync(() => !Directory.Exists($"/proc/{pid}") || IsZombie(pid), TimeSpan.FromSeconds(3), "script killed");
    }

    [Fact]
    public async Task Missing_program_is_down()
    {
        ProbeResult result = await Probe(Settings.Command(Path.Combine(_dir.Path, "nope.sh"))).ProbeAsync(CancellationToken.None);

        Assert.False(result.IsUp);
    }

    [Fact]
    public async Task Runs_as_the_script_user_through_setpriv()
    {
        string script = _dir.Script("whoami.sh", "echo \"$(id -u):$(id -g)\"");

        ProbeResult result = await Probe(Settings.Command(script), user: new ScriptAccount("nobody", null)).ProbeAsync(CancellationToken.None);

        Assert.True(result.IsUp, result.ToString());
        Assert.EndsWith(": 65534:65534", result.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Global_script_user_applies_when_the_check_has_none()
    {
        string script = _dir.Script("whoami.sh", "id -u");

        ProbeResult result = await Probe(Settings.Command(script), settings: new ScriptSettings(new ScriptAccount("nobody", null), false))
            .ProbeAsync(CancellationToken.None);

        Assert.EndsWith(": 65534", result.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unknown_script_user_is_down()
    {
        string script = _dir.Script("ok.sh", "exit 0");

        ProbeResult result = await Probe(Settings.Command(script), user: new ScriptAccount("no-such-user-xyz", null)).ProbeAsync(CancellationToken.None);

        Assert.False(result.IsUp);
        Assert.Contains("'no-such-user-xyz' does not exist", result.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0b111_111_111u)] // o+w
    [InlineData(0b111_111_101u)] // g+w, group chown'ed below to a non-root group
    public async Task Enable_script_security_refuses_a_script_others_can_write(uint mode)
    {
        string script = _dir.Script("weak.sh", "exit 0");
        File.SetUnixFileMode(script, (UnixFileMode)mode);
        await ChownGroupAsync(script, "nogroup");
        var secure = new ScriptSettings(new ScriptAccount("root", null), EnableScriptSecurity: true);

        ProbeResult refused = await Probe(Settings.Command(script), settings: secure).ProbeAsync(CancellationToken.None);
        ProbeResult allowed = await Probe(Settings.Command(script)).ProbeAsync(CancellationToken.None);

        Assert.False(refused.IsUp);
        Assert.Contains("refused by enable_script_security", refused.Reason, StringComparison.Ordinal);
        Assert.Contains($"'{script}' is writable by", refused.Reason, StringComparison.Ordinal);
        Assert.True(allowed.IsUp, "without enable_script_security the script runs (and is only logged)");
    }

    [Fact]
    public async Task Enable_script_security_allows_a_root_owned_script_in_a_safe_path()
    {
        string script = _dir.Script("safe.sh", "exit 0");
        var secure = new ScriptSettings(new ScriptAccount("root", null), EnableScriptSecurity: true);

        Assert.True((await Probe(Settings.Command(script), settings: secure).ProbeAsync(CancellationToken.None)).IsUp);
    }

    [Fact]
    public async Task Enable_script_security_refuses_a_script_in_a_directory_others_can_write()
    {
        string weakDir = Path.Combine(_dir.Path, "weak");
        Directory.CreateDirectory(weakDir);
        File.SetUnixFileMode(weakDir, (UnixFileMode)0b111_111_111);
        string script = Path.Combine(weakDir, "check.sh");
        File.WriteAllText(script, "#!/bin/sh\nexit 0\n");
        File.SetUnixFileMode(script, (UnixFileMode)0b111_101_101);
        var secure = new ScriptSettings(new ScriptAccount("root", null), EnableScriptSecurity: true);

        ProbeResult result = await Probe(Settings.Command(script), settings: secure).ProbeAsync(CancellationToken.None);

        Assert.False(result.IsUp);
        Assert.Contains($"'{weakDir}' is writable by every user", result.Reason, StringComparison.Ordinal);
    }

    private static bool IsZombie(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/stat").Contains(") Z ", StringComparison.Ordinal);
        }
        catch (IOException)
        {
            return true;
        }
    }

    private static async Task ChownGroupAsync(string path, string group)
    {
        using var chgrp = Process.Start("chgrp", [group, path]);
        await chgrp.WaitForExitAsync();
        Assert.Equal(0, chgrp.ExitCode);
    }
}
