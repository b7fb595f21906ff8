using VipProxy.Lab;
using VipProxy.Vrrp.Tests.Support;
using Xunit.Abstractions;

namespace VipProxy.Vrrp.Tests.Linux;

/// <summary>
/// keepalived 2.2.7 and an in-process <see cref="VrrpService"/> as the two routers of VRID 51 (the scenario tests do
/// the same with the daemon binary): VRRPv2 with PASS, both directions of a SIGTERM handover.
/// </summary>
[Collection(KernelCollection.Name)]
[Trait("Category", "Root")]
public sealed class KeepalivedInProcessTests(ITestOutputHelper output)
{
    private static string Config(LanHost host, int priority) => $$"""
        vrrp_instance VI_1 {
            state BACKUP
            interface {{host.Interfaces[0].Name}}
            virtual_router_id 51
            priority {{priority}}
            advert_int 1
            authentication {
                auth_type PASS
                auth_pass secret1
            }
            virtual_ipaddress {
                198.18.0.100/24
            }
        }
        """;

    [Fact]
    public async Task VipProxy_backs_up_a_keepalived_master_and_takes_over_when_it_stops()
    {
        var directory = Directory.CreateTempSubdirectory("vipproxy-ka-").FullName;
        try
        {
            await using var lan = await Lan.CreateAsync(output.WriteLine, "lb1", "lb2");
            var (lb1, lb2) = (lan.Host("lb1"), lan.Host("lb2"));
            var file = Path.Combine(directory, "ka.conf");
            await File.WriteAllTextAsync(file, Config(lb1, 150));
            var keepalived = lb1.Start("/usr/sbin/keepalived", "-n", "-l", "-D", "-P", "-f", file,
                "-p", Path.Combine(directory, "ka.pid"), "-r", Path.Combine(directory, "vrrp.pid"), "-c", Path.Combine(directory, "chk.pid"));
            await using var service = new VrrpService(TestConfig.Parse(Config(lb2, 100)), new TestOutputLoggerFactory(output, "lb2"), TimeProvider.System, new LinuxVrrpAdapters(new FakeScriptRunner()));
            Assert.True(NetNs.Run(lb2.NamespaceName, () => service.StartAsync(default)).IsCompletedSuccessfully);

            await Eventually.TrueAsync(() => service.GetStatus()[0] is { State: "BACKUP", MasterAddress: "198.18.0.1" }, TimeSpan.FromSeconds(15), "keepalived seen as master", TestConfig.PollInterval);
            await Task.Delay(2000);
            Assert.Equal("BACKUP", service.GetStatus()[0].State);
            Assert.True(service.GetStatus()[0].AdvertsReceived >= 2);

            keepalived.Signal(UnixSignal.Term);
            await Eventually.TrueAsync(() => service.GetStatus()[0].State == "MASTER", TimeSpan.FromSeconds(3), "takeover", TestConfig.PollInterval);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
