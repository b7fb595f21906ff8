using System.Diagnostics;
using Xunit.Abstractions;

namespace VipProxy.Scenario.Tests.Packaging;

/// <summary>
/// Issue 20's package: scripts/package.sh builds the .deb from the Native AOT binary; lintian finds no error or
/// warning (pedantic and info tags included: none are expected), the contents are what the README promises, the
/// config is a conffile, and the packaged unit passes systemd-analyze verify with the packaged binary in place
/// (in a private mount namespace, so the host's /usr/sbin is never touched).
/// </summary>
[Collection(NetworkScenariosCollection.Name)]
[Trait("Category", "Root")]
public sealed class DebianPackageScenario(ITestOutputHelper output)
{
    [Fact]
    public async Task The_package_builds_passes_lintian_and_holds_what_it_promises()
    {
        string built = (await RunAsync("bash", RepositoryFiles.Path("scripts/package.sh"))).Trim().Split('\n')[^1];
        string deb = Path.IsPathRooted(built) ? built : RepositoryFiles.Path(built);
        Assert.True(File.Exists(deb), $"package.sh printed '{built}'");

        string lintian = await RunAsync("lintian", "--pedantic", "--info", "--display-experimental", deb);
        output.WriteLine($"lintian: {lintian}");
        var tags = lintian.Split('\n').Where(l => l.Length > 2 && l[1] == ':' && "EWIPX".Contains(l[0], StringComparison.Ordinal)).ToList();
        Assert.True(tags.Count == 0, "lintian tags:\n" + string.Join('\n', tags));

        string contents = await RunAsync("dpkg-deb", "--contents", deb);
        foreach (string path in new[]
        {
            "./usr/sbin/vipproxy", "./lib/systemd/system/vipproxy.service", "./etc/vipproxy/vipproxy.conf",
            "./usr/share/man/man8/vipproxy.8.gz", "./usr/share/man/man5/vipproxy.conf.5.gz",
            "./usr/share/bash-completion/completions/vipproxy", "./usr/share/doc/vipproxy/copyright",
            "./usr/share/doc/vipproxy/changelog.gz", "./usr/share/doc/vipproxy/examples/monitoring/vipproxy-alerts.yml",
        })
        {
            Assert.Contains(path, contents, StringComparison.Ordinal);
        }

        Assert.Contains("-rwxr-xr-x root/root", contents.Split('\n').Single(l => l.EndsWith("./usr/sbin/vipproxy", StringComparison.Ordinal)), StringComparison.Ordinal);
        Assert.Equal("/etc/vipproxy/vipproxy.conf", (await RunAsync("dpkg-deb", "--info", deb, "conffiles")).Trim());
        string control = await RunAsync("dpkg-deb", "--field", deb, "Package", "Version", "Architecture");
        Assert.Contains("Package: vipproxy", control, StringComparison.Ordinal);
        Assert.Contains("Architecture: amd64", control, StringComparison.Ordinal);
        string postinst = await RunAsync("dpkg-deb", "--info", deb, "postinst");
        Assert.Contains("install -d -m 0700 /var/lib/vipproxy", postinst, StringComparison.Ordinal);

        string unpacked = Directory.CreateTempSubdirectory("vipproxy-deb-test.").FullName;
        try
        {
            await RunAsync("dpkg-deb", "-x", deb, unpacked);
            string unit = await File.ReadAllTextAsync(Path.Combine(unpacked, "lib/systemd/system/vipproxy.service"));
            Assert.Contains("Type=notify", unit, StringComparison.Ordinal);
            Assert.Contains("ExecReload=/bin/kill -HUP $MAINPID", unit, StringComparison.Ordinal);
            Assert.Contains("ExecStart=/usr/sbin/vipproxy run", unit, StringComparison.Ordinal);
            Assert.Contains("AmbientCapabilities=CAP_NET_ADMIN CAP_NET_RAW CAP_NET_BIND_SERVICE", unit, StringComparison.Ordinal);

            // systemd-analyze verify checks that ExecStart's binary exists: put the packaged one at /usr/sbin
            // in a private mount namespace only.
            string verify = await RunAsync("unshare", "-m", "sh", "-c",
                $"mount -t tmpfs tmpfs /usr/sbin && cp '{unpacked}/usr/sbin/vipproxy' /usr/sbin/ && systemd-analyze verify --man=no '{unpacked}/lib/systemd/system/vipproxy.service'");
            Assert.DoesNotContain("vipproxy.service:", verify, StringComparison.Ordinal);

            // The packaged binary and its shipped example agree.
            string check = await RunAsync(Path.Combine(unpacked, "usr/sbin/vipproxy"), "check", "-f", Path.Combine(unpacked, "etc/vipproxy/vipproxy.conf"));
            Assert.Contains("configuration is valid", check, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(unpacked, recursive: true);
        }
    }

    private static async Task<string> RunAsync(string program, params string[] arguments)
    {
        var start = new ProcessStartInfo(program, arguments) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = RepositoryFiles.Root };
        using var process = Process.Start(start)!;
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(10));
        await process.WaitForExitAsync(timeout.Token);
        string text = await stdout;
        string errors = await stderr;
        Assert.True(process.ExitCode == 0, $"{program} {string.Join(' ', arguments)} exited {process.ExitCode}:\n{text}\n{errors}");
        return program == "lintian" ? text + errors.Replace("running with root privileges is not recommended!", "", StringComparison.Ordinal) : text + errors;
    }
}
