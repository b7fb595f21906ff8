using VipProxy.Cli.Commands;
using VipProxy.Config;
using VipProxy.Config.Model;

namespace VipProxy.Host.Tests;

/// <summary><c>vipproxy check</c> on the shipped files and on the classic mistakes.</summary>
public class CheckCommandTests
{
    private static (int ExitCode, string Output, string Errors) Check(string path, bool dump = false, string? nodeId = null)
    {
        var output = new StringWriter();
        var errors = new StringWriter();
        int exit = CheckCommand.Run(new FileInfo(path), nodeId, dump, output, errors);
        return (exit, output.ToString(), errors.ToString());
    }

    [Theory]
    [InlineData("conf/lb1.conf")]
    [InlineData("conf/lb2.conf")]
    [InlineData("conf/reference.conf")]
    public void Shipped_configurations_are_valid(string file)
    {
        var (exit, output, errors) = Check(RepositoryFiles.Path(file));
        Assert.True(exit == CheckCommand.Valid, errors);
        Assert.Contains("configuration is valid", output, StringComparison.Ordinal);
        Assert.DoesNotContain("error:", errors, StringComparison.Ordinal);
    }

    [Fact]
    public void The_two_hosts_differ_only_in_role()
    {
        KeepalivedConfig lb1 = ConfigLoader.Load(RepositoryFiles.Path("conf/lb1.conf")).Config!;
        KeepalivedConfig lb2 = ConfigLoader.Load(RepositoryFiles.Path("conf/lb2.conf")).Config!;
        Assert.Equal((VrrpInitialState.Master, 100), (lb1.VrrpInstances[0].InitialState, lb1.VrrpInstances[0].Priority));
        Assert.Equal((VrrpInitialState.Backup, 90), (lb2.VrrpInstances[0].InitialState, lb2.VrrpInstances[0].Priority));
        Assert.Equal(lb1.VirtualServers, lb2.VirtualServers);
        Assert.Equal(lb1.VrrpInstances[0] with { InitialState = VrrpInitialState.Backup, Priority = 90 }, lb2.VrrpInstances[0]);
        VirtualServer data = lb1.VirtualServers.Single(v => v.Endpoint.Port == 8066);
        Assert.Equal((SchedulingAlgorithm.RoundRobin, TimeSpan.FromSeconds(50), TimeSpan.FromSeconds(3)), (data.Algorithm, data.PersistenceTimeout!.Value, data.DelayLoop));
        Assert.All(data.RealServers, r => Assert.IsType<MySqlCheck>(r.Checkers.Single()));
    }

    [Fact]
    public void Persistence_timeout_written_with_a_space_is_refused_naming_the_line()
    {
        string original = File.ReadAllText(RepositoryFiles.Path("conf/lb1.conf"));
        string broken = original.Replace("persistence_timeout 50", "persistence timeout 50", StringComparison.Ordinal);
        int line = broken.Split('\n').ToList().FindIndex(l => l.Contains("persistence timeout", StringComparison.Ordinal)) + 1;
        string path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"vipproxy-check-{Guid.NewGuid():N}.conf");
        File.WriteAllText(path, broken);
        try
        {
            var (exit, _, errors) = Check(path);
            Assert.Equal(CheckCommand.Invalid, exit);
            Assert.Contains($"{path}:{line}:5: error: unknown keyword 'persistence' in virtual_server; did you mean 'persistence_timeout'?", errors, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void A_missing_file_is_refused() =>
        Assert.Equal(CheckCommand.Invalid, Check("/nonexistent/vipproxy.conf").ExitCode);

    [Fact]
    public void Dump_prints_every_default_and_loads_back_to_the_same_model()
    {
        var (exit, dump, errors) = Check(RepositoryFiles.Path("conf/reference.conf"), dump: true);
        Assert.True(exit == CheckCommand.Valid, errors);
        Assert.Contains("lb_kind NAT", dump, StringComparison.Ordinal);
        Assert.Contains("garp_master_repeat 5", dump, StringComparison.Ordinal);
        KeepalivedConfig original = ConfigLoader.Load(RepositoryFiles.Path("conf/reference.conf")).Config!;
        ConfigLoadResult reloaded = ConfigLoader.LoadText("/tmp/dump.conf", dump);
        Assert.True(reloaded.Config is not null, string.Join('\n', reloaded.Diagnostics));
        Assert.Equal(original, reloaded.Config);
    }

    [Fact]
    public void Explain_lists_where_this_file_behaves_differently_from_keepalived()
    {
        string path = Path.Combine(Path.GetTempPath(), $"vipproxy-explain-{Environment.ProcessId}.conf");
        File.WriteAllText(path, """
            virtual_server 198.18.0.200 8066 {
                lb_algo rr
                lb_kind NAT
                persistence_timeout 50
                ha_suspend
                real_server 198.18.1.1 8066 {
                    TCP_CHECK {
                        connect_timeout 3
                    }
                }
            }
            virtual_server 198.18.0.200 9066 {
                protocol TCP
                real_server 198.18.1.1 9066 {
                    send_proxy_v2
                }
            }
            """);
        try
        {
            var output = new StringWriter();
            var errors = new StringWriter();
            int exit = CheckCommand.Run(new FileInfo(path), null, dump: false, output, errors, explain: true);
            Assert.True(exit == CheckCommand.Valid, errors.ToString());
            string text = output.ToString();
            Assert.Contains("Where VipProxy differs from keepalived for this file", text, StringComparison.Ordinal);
            Assert.Contains(":1:1: warning: virtual_server 198.18.0.200 8066 has no 'protocol': keepalived would default to UDP", text, StringComparison.Ordinal);
            Assert.Contains(":5:5: warning: 'ha_suspend' has no effect", text, StringComparison.Ordinal);
            Assert.Contains("virtual_server 198.18.0.200 8066: persistence_timeout 50 keeps a client on its server as LVS does, but an entry is dropped as soon as its server goes down", text, StringComparison.Ordinal);
            Assert.Contains("virtual_server 198.18.0.200 8066: keepalived's LVS-NAT keeps the client's address", text, StringComparison.Ordinal);
            // The second virtual server sends the PROXY header, so real servers learn the client: no such note.
            Assert.DoesNotContain("virtual_server 198.18.0.200 9066: keepalived's LVS-NAT", text, StringComparison.Ordinal);
            Assert.DoesNotContain("9066 has no 'protocol'", text, StringComparison.Ordinal);

            // Without --explain, check prints only its verdict.
            var plain = new StringWriter();
            CheckCommand.Run(new FileInfo(path), null, dump: false, plain, new StringWriter());
            Assert.DoesNotContain("differs from keepalived", plain.ToString(), StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
