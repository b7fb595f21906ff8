using VipProxy.HealthChecks.Scripts;

namespace VipProxy.HealthChecks.Tests.Scripts;

public sealed class ScriptSecurityRulesTests
{
    private const UnixFileMode Dir755 = (UnixFileMode)0b111_101_101;
    private const UnixFileMode File755 = (UnixFileMode)0b111_101_101;

    private static PathEntry Dir(string path, UnixFileMode mode = Dir755, uint uid = 0, uint gid = 0) =>
        new(path, PathEntryKind.Directory, uid, gid, mode);

    private static PathEntry File(string path, UnixFileMode mode = File755, uint uid = 0, uint gid = 0) =>
        new(path, PathEntryKind.RegularFile, uid, gid, mode);

    private static ScriptSecurityVerdict Judge(params PathEntry[] chain) => ScriptSecurityRules.Evaluate(chain);

    [Fact]
    public void Root_owned_path_without_foreign_write_is_secure() =>
        Assert.True(Judge(Dir("/"), Dir("/etc"), Dir("/etc/vipproxy"), File("/etc/vipproxy/check.sh")).IsSecure);

    [Theory]
    [InlineData(0b111_111_101u, 1000u, "writable by group 1000")]  // g+w, non-root group
    [InlineData(0b111_101_111u, 0u, "writable by every user")]     // o+w
    public void Writable_script_is_insecure(uint mode, uint gid, string expected)
    {
        ScriptSecurityVerdict verdict = Judge(Dir("/"), Dir("/srv"), File("/srv/check.sh", (UnixFileMode)mode, gid: gid));

        Assert.False(verdict.IsSecure);
        Assert.Equal($"'/srv/check.sh' is {expected}", verdict.Reason);
    }

    [Fact]
    public void Group_write_by_root_group_is_allowed_as_in_keepalived() =>
        Assert.True(Judge(Dir("/"), File("/check.sh", (UnixFileMode)0b111_111_101)).IsSecure);

    [Fact]
    public void Script_owned_by_another_user_is_insecure()
    {
        ScriptSecurityVerdict verdict = Judge(Dir("/"), Dir("/home"), File("/home/check.sh", uid: 1000));

        Assert.Equal("'/home/check.sh' is owned by uid 1000, not root", verdict.Reason);
    }

    [Fact]
    public void Writable_parent_directory_is_insecure()
    {
        ScriptSecurityVerdict verdict = Judge(Dir("/"), Dir("/opt", (UnixFileMode)0b111_111_111), File("/opt/check.sh"));

        Assert.Equal("'/opt' is writable by every user", verdict.Reason);
    }

    [Fact]
    public void Sticky_world_writable_directory_like_tmp_is_allowed() =>
        Assert.True(Judge(Dir("/"), Dir("/tmp", (UnixFileMode)0b1_111_111_111), Dir("/tmp/x"), File("/tmp/x/check.sh")).IsSecure);

    [Fact]
    public void Parent_owned_by_another_user_is_insecure_even_with_sticky_bit() =>
        Assert.False(Judge(Dir("/"), Dir("/shared", (UnixFileMode)0b1_111_111_111, uid: 1000), File("/shared/c.sh")).IsSecure);

    [Fact]
    public void Symbolic_link_itself_is_judged_by_its_owner_only()
    {
        var link = new PathEntry("/usr/local/bin/check", PathEntryKind.SymbolicLink, 0, 0, (UnixFileMode)0b111_111_111);

        Assert.True(Judge(Dir("/"), Dir("/usr"), Dir("/usr/local"), Dir("/usr/local/bin"), link).IsSecure);
    }

    [Fact]
    public void A_root_owned_link_in_the_middle_is_accepted_and_one_owned_by_a_user_is_not()
    {
        // Debian 12's merged /usr: /bin -> usr/bin, with the link's meaningless mode 777.
        var bin = new PathEntry("/bin", PathEntryKind.SymbolicLink, 0, 0, (UnixFileMode)0b111_111_111);
        Assert.True(Judge(Dir("/"), bin, File("/bin/false")).IsSecure);
        var userLink = new PathEntry("/opt", PathEntryKind.SymbolicLink, 1000, 1000, (UnixFileMode)0b111_111_111);
        Assert.False(Judge(Dir("/"), userLink, File("/opt/check.sh")).IsSecure);
    }

    [Fact]
    public void Non_directory_in_the_middle_or_device_at_the_end_is_refused()
    {
        Assert.False(Judge(Dir("/"), File("/a"), File("/a/b")).IsSecure);
        Assert.False(Judge(Dir("/"), new PathEntry("/dev-ish", PathEntryKind.Other, 0, 0, File755)).IsSecure);
    }

    [Theory]
    [InlineData(0u, 0u, 0b111_101_101u, 1000u, true)]         // runs as root
    [InlineData(1000u, 0u, 0b111_101_101u, 1000u, true)]      // runs with root's group
    [InlineData(65534u, 65534u, 0b111_101_101u, 0u, false)]   // unprivileged user: nothing to protect
    [InlineData(65534u, 65534u, 0b100_111_101_101u, 0u, true)] // set-user-ID root
    public void Protection_is_needed_only_for_root_privileges(uint runUid, uint runGid, uint mode, uint owner, bool expected)
    {
        var file = new PathEntry("/x", PathEntryKind.RegularFile, owner, owner, (UnixFileMode)mode);

        Assert.Equal(expected, ScriptSecurityRules.NeedsProtection(runUid, runGid, file));
    }
}
