using VipProxy.Vrrp.Protocol;

namespace VipProxy.Vrrp.Tests.Support;

/// <summary>Record equality, except that address lists compare by content.</summary>
internal sealed class ActionComparer : IEqualityComparer<VrrpAction>
{
    public bool Equals(VrrpAction? x, VrrpAction? y) => (x, y) switch
    {
        (AddVirtualAddresses a, AddVirtualAddresses b) => a.Addresses.SequenceEqual(b.Addresses),
        (RemoveVirtualAddresses a, RemoveVirtualAddresses b) => a.Addresses.SequenceEqual(b.Addresses),
        (SendGratuitousArps a, SendGratuitousArps b) => a.Addresses.SequenceEqual(b.Addresses) && a.Repeat == b.Repeat && a.Interval == b.Interval,
        _ => EqualityComparer<VrrpAction>.Default.Equals(x, y),
    };

    public int GetHashCode(VrrpAction obj) => obj.GetType().GetHashCode();
}
