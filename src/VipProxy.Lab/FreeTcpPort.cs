using System.Net;
using System.Net.Sockets;

namespace VipProxy.Lab;

/// <summary>Picks a TCP port that is free right now (the kernel's choice for port 0). Another process could take
/// it before it is used, so servers started on it retry with a new port when the bind fails.</summary>
public static class FreeTcpPort
{
    public static int On(IPAddress address)
    {
        using var listener = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(address, 0));
        return ((IPEndPoint)listener.LocalEndPoint!).Port;
    }
}
