using System.Net;

namespace VipProxy.Lab;

/// <summary>An address held by an interface, as `ip addr` shows it (a VIP carries its label).</summary>
public sealed record InterfaceAddress(IPAddress Address, int PrefixLength, string? Label)
{
    public override string ToString() => $"{Address}/{PrefixLength}";
}
