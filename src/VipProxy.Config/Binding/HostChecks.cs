using System.Buffers.Binary;
using System.Net;
using VipProxy.Config.Model;

namespace VipProxy.Config.Binding;

/// <summary>
/// Checks that need the host's interfaces. They are warnings: the file may be written for another host,
/// and <c>vipproxy run</c> refuses a missing interface on its own host anyway.
/// </summary>
internal static class HostChecks
{
    public static void Run(IReadOnlyList<VrrpInstanceBinder.Builder> builders, IReadOnlyList<VrrpInstance> instances, IReadOnlyList<HostInterface> interfaces, BindContext context)
    {
        // By name, first declaration first (as the binder keeps it): a lookup per instance, since ~SEQ files reach
        // tens of thousands of instances.
        var byName = new Dictionary<string, VrrpInstanceBinder.Builder>(StringComparer.Ordinal);
        foreach (VrrpInstanceBinder.Builder candidate in builders)
        {
            byName.TryAdd(candidate.Name, candidate);
        }

        foreach (VrrpInstance instance in instances)
        {
            VrrpInstanceBinder.Builder builder = byName[instance.Name];
            if (!interfaces.Any(i => i.Name == instance.Interface))
            {
                context.Warning(builder.Location, $"vrrp_instance {instance.Name}: interface {instance.Interface} does not exist on this host");
            }

            foreach (VirtualIpAddress vip in instance.AllVirtualIpAddresses())
            {
                if (!interfaces.Any(i => i.Contains(vip.Address)))
                {
                    context.Warning(builder.Location, $"vrrp_instance {instance.Name}: VIP {vip.Address} is outside every subnet of this host's interfaces; neighbours may not reach it");
                }
            }
        }
    }
}

/// <summary>An IPv4 address of one of the host's interfaces, with its prefix.</summary>
public sealed record HostInterface(string Name, IPAddress Address, int PrefixLength)
{
    public bool Contains(IPAddress address)
    {
        if (PrefixLength == 0)
        {
            return true;
        }

        uint mask = uint.MaxValue << (32 - PrefixLength);
        uint network = BinaryPrimitives.ReadUInt32BigEndian(Address.GetAddressBytes()) & mask;
        return (BinaryPrimitives.ReadUInt32BigEndian(address.GetAddressBytes()) & mask) == network;
    }
}
