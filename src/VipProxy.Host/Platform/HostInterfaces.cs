using System.Net.NetworkInformation;
using System.Net.Sockets;
using VipProxy.Config.Binding;

namespace VipProxy.Host.Platform;

/// <summary>The host's IPv4 interface addresses, for the configuration's VIP-subnet checks.</summary>
public static class HostInterfaces
{
    public static IReadOnlyList<HostInterface> Read()
    {
        var interfaces = new List<HostInterface>();
        foreach (NetworkInterface nic in NetworkInterface.GetAllNetworkInterfaces())
        {
            foreach (UnicastIPAddressInformation address in nic.GetIPProperties().UnicastAddresses)
            {
                if (address.Address.AddressFamily == AddressFamily.InterNetwork)
                {
                    interfaces.Add(new HostInterface(nic.Name, address.Address, address.PrefixLength));
                }
            }
        }

        return interfaces;
    }

    public static bool Exists(string name) => NetworkInterface.GetAllNetworkInterfaces().Any(n => n.Name == name);
}
