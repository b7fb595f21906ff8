using System.Net;

namespace VipProxy.Vrrp.Protocol;

/// <summary>
/// Something the driver must do, returned by <see cref="VrrpStateMachine.Handle"/>. Execute them in list order:
/// the order carries meaning (e.g. the priority-0 advert goes out before the addresses are removed).
/// </summary>
public abstract record VrrpAction;

/// <summary>
/// Send one advert at <paramref name="Priority"/> (0 = "I am stopping"). Build it with
/// <see cref="VrrpPacket.ForInstance"/>; in unicast mode send one copy per peer.
/// </summary>
public sealed record SendAdvertisement(byte Priority) : VrrpAction;

/// <summary>Add the virtual addresses to the interface (becoming master).</summary>
public sealed record AddVirtualAddresses(IReadOnlyList<IPAddress> Addresses) : VrrpAction;

/// <summary>
/// Remove the virtual addresses (leaving master; also at startup of a non-owner, to clear addresses a killed
/// process left behind, as keepalived does). Absent addresses are not an error.
/// </summary>
public sealed record RemoveVirtualAddresses(IReadOnlyList<IPAddress> Addresses) : VrrpAction;

/// <summary>
/// Send <paramref name="Repeat"/> gratuitous ARPs for each address (request, sender = target = address, broadcast),
/// <paramref name="Interval"/> apart (keepalived <c>garp_interval</c>).
/// </summary>
public sealed record SendGratuitousArps(IReadOnlyList<IPAddress> Addresses, int Repeat, TimeSpan Interval) : VrrpAction;

/// <summary>
/// Arm (or re-arm, replacing any earlier deadline) <paramref name="Timer"/> to fire at <paramref name="Deadline"/>,
/// a reading of <see cref="VrrpTiming.Now"/>. On expiry, feed back <see cref="TimerExpired"/> with the same deadline.
/// </summary>
public sealed record ArmTimer(VrrpTimer Timer, TimeSpan Deadline) : VrrpAction;

/// <summary>Disarm <paramref name="Timer"/>.</summary>
public sealed record CancelTimer(VrrpTimer Timer) : VrrpAction;

/// <summary>
/// Run the notify scripts for <paramref name="State"/> (asynchronously, in order). <paramref name="Priority"/> is the
/// effective priority, keepalived's fourth <c>notify</c> argument.
/// </summary>
public sealed record RunNotify(NotifyState State, byte Priority) : VrrpAction;
