using System.Diagnostics;
using VipProxy.Lab;
using VipProxy.Vrrp.Tests.Support;
using Xunit.Abstractions;

namespace VipProxy.Vrrp.Tests.Linux;

/// <summary>
/// Two <see cref="VrrpService"/>s of this process, each opened inside its own namespace host of one bridge, on the
/// real adapters: the whole stack short of the daemon binary (the scenario tests run that).
/// </summary>
[Collection(KernelCollection.Name)]
[Trait("Category", "Root")]
public sealed class TwoNodeTests(ITestOutputHelper output)
{
    private const string VipText = "198.18.0.100";

    private static string Config(string interfaceName, int priority) => $$"""
        vrrp_instance VI_1 {
            interface {{interfaceName}}
            virtual_router_id 51
            priority {{priority}}
            version 3
            advert_int 0.1
            virtual_ipaddress {
                {{VipText}}/24
            }
        }
        """;

    [Fact]
    public async Task Two_services_elect_the_higher_priority_and_the_VIP_moves_when_its_link_is_cut()
    {
        await using var lan = await Lan.CreateAsync(output.WriteLine, "lb1", "lb2");
        var lb1 = lan.Host("lb1");
        var lb2 = lan.Host("lb2");
        await using var node1 = Start(lb1, 200);
        await using var node2 = Start(lb2, 100);

        await WaitAsync(() => node1.GetStatus()[0].State == "MASTER" && node2.GetStatus()[0].State == "BACKUP", "election");
        Assert.Contains(await lb1.GetIPv4AddressesAsync(lb1.Interfaces[0].Name), a => a.Address.ToString() == VipText);
        Assert.DoesNotContain(await lb2.GetIPv4AddressesAsync(lb2.Interfaces[0].Name), a => a.Address.ToString() == VipText);

        var cut = Stopwatch.StartNew();
        await lb1.Interfaces[0].CutLinkAsync();
        await WaitAsync(() => node2.GetStatus()[0].State == "MASTER", "takeover");
        output.WriteLine($"takeover after {cut.ElapsedMilliseconds} ms");
        Assert.Equal("FAULT", node1.GetStatus()[0].State);
        Assert.Contains(await lb2.GetIPv4AddressesAsync(lb2.Interfaces[0].Name), a => a.Address.ToString() == VipText);

        await lb1.Interfaces[0].RestoreLinkAsync();
        await WaitAsync(() => node1.GetStatus()[0].State == "MASTER" && node2.GetStatus()[0].State == "BACKUP", "preempt back");
    }

    private VrrpService Start(LanHost host, int priority)
    {
        var service = new VrrpService(TestConfig.Parse(Config(host.Interfaces[0].Name, priority)),
            new TestOutputLoggerFactory(output, host.Name), TimeProvider.System, new LinuxVrrpAdapters(new FakeScriptRunner()));

        // StartAsync opens every socket synchronously, so they all belong to the namespace of this thread.
        var started = NetNs.Run(host.NamespaceName, () => service.StartAsync(CancellationToken.None));
        Assert.True(started.IsCompletedSuccessfully);
        return service;
    }

    private static async Task WaitAsync(Func<bool> condition, string what) =>
        await Eventually.TrueAsync(condition, TimeSpan.FromSeconds(10), what, TestConfig.PollInterval);
}
