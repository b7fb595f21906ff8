using VipProxy.Lab;
using VipProxy.Vrrp.Tests.Support;
using Xunit.Abstractions;

namespace VipProxy.Vrrp.Tests.Linux;

/// <summary>What a reload leaves open, counted in the kernel's own tables rather than on fake adapters.</summary>
[Collection(KernelCollection.Name)]
[Trait("Category", "Root")]
public sealed class ReloadDescriptorTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_reload_that_removes_an_instance_closes_the_packet_socket_it_opened_for_another_device()
    {
        await using var lan = await Lan.CreateAsync(output.WriteLine, "lb1");
        var lb1 = lan.Host("lb1");
        string eth = lb1.Interfaces[0].Name;
        string instanceB = $$"""
            vrrp_instance B {
                interface {{eth}}
                virtual_router_id 52
                virtual_ipaddress {
                    198.18.0.101/24
                }
            }
            """;
        string instanceAWithLo = $$"""
            vrrp_instance A {
                interface {{eth}}
                virtual_router_id 51
                virtual_ipaddress {
                    198.18.0.100/24
                }
                virtual_ipaddress_excluded {
                    198.18.0.200/32 dev lo
                }
            }
            """;
        await using var service = new VrrpService(TestConfig.Parse(instanceAWithLo + instanceB), new TestOutputLoggerFactory(output, "lb1"),
            TimeProvider.System, new LinuxVrrpAdapters(new FakeScriptRunner()));
        Assert.True(NetNs.Run(lb1.NamespaceName, () => service.StartAsync(default)).IsCompletedSuccessfully);
        int before = OurPacketSockets(lb1.NamespaceName);

        await service.ApplyConfigAsync(TestConfig.Parse(instanceB), default);
        int after = OurPacketSockets(lb1.NamespaceName);
        output.WriteLine($"AF_PACKET descriptors of this process in {lb1.NamespaceName}: {before} before the reload, {after} after");

        // B keeps the interface's own sockets; only lo's gratuitous ARP sender, named by A alone, goes.
        Assert.Equal(before - 1, after);
        await service.StopAsync(default);
        Assert.Equal(0, OurPacketSockets(lb1.NamespaceName));
    }

    /// <summary>
    /// This process's descriptors that are AF_PACKET sockets of the namespace: the inodes of its /proc/net/packet
    /// (read from a thread inside it) that /proc/self/fd links to. Other tests' sockets live in other namespaces.
    /// </summary>
    private static int OurPacketSockets(string namespaceName)
    {
        var lines = NetNs.Run(namespaceName, () => File.ReadAllLines("/proc/thread-self/net/packet"));
        var inodes = lines.Skip(1)
            .Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[^1])
            .Select(inode => "socket:[" + inode + "]")
            .ToHashSet(StringComparer.Ordinal);
        int count = 0;
        foreach (var fd in new DirectoryInfo("/proc/self/fd").EnumerateFileSystemInfos())
        {
            try
            {
                if (fd.LinkTarget is { } target && inodes.Contains(target))
                {
                    count++;
                }
            }
            catch (IOException)
            {
                // A descriptor closed while we looked.
            }
        }

        return count;
    }
}
