namespace VipProxy.Vrrp.Protocol;

/// <summary>Something that happened to an instance; the driver feeds these to <see cref="VrrpStateMachine.Handle"/>.</summary>
public abstract record VrrpEvent;

/// <summary>The instance starts (RFC 5798 §6.4.1 "Startup event").</summary>
public sealed record Startup : VrrpEvent;

/// <summary>The instance stops (RFC 5798 §6.4.2/§6.4.3 "Shutdown event"), e.g. on SIGTERM.</summary>
public sealed record Shutdown : VrrpEvent;

/// <summary>
/// A datagram arrived and was run through <see cref="VrrpCodec.Parse"/> for this instance. Dropped verdicts are only
/// counted; they never touch a timer.
/// </summary>
public sealed record PacketReceived(VrrpVerdict Verdict) : VrrpEvent;

/// <summary>
/// A timer armed by <see cref="ArmTimer"/> fired. <paramref name="Deadline"/> is the deadline it was armed with: a
/// late expiry of a timer that has since been re-armed or cancelled is recognised and ignored.
/// </summary>
public sealed record TimerExpired(VrrpTimer Timer, TimeSpan Deadline) : VrrpEvent;

/// <summary>
/// A tracked item (interface, script, virtual-server health) changed. The tracker reports its current contribution:
/// <paramref name="Faulted"/> puts the instance in Fault (zero-weight failure, interface down);
/// <paramref name="PriorityDelta"/> is what it adds to the configured priority now (keepalived: +weight while a
/// positive-weight item is up, −|weight| while a negative-weight item is down, else 0).
/// </summary>
public sealed record TrackedStateChanged(string Tracker, bool Faulted, int PriorityDelta) : VrrpEvent;

/// <summary>
/// The operator demoted the instance (<c>vipproxy vrrp demote</c>): a master leaves as on shutdown (RFC 5798 §6.4.3:
/// an advert with priority 0, so the backup takes over after Skew_Time, §6.6), and the instance stays Backup, never
/// taking the master role, until <see cref="OperatorResumed"/>.
/// </summary>
public sealed record OperatorDemoted : VrrpEvent;

/// <summary>The operator lifted a demotion (<c>vipproxy vrrp resume</c>): the instance takes part in the election
/// again, from Backup with a fresh Master_Down_Timer (it preempts as its configuration says).</summary>
public sealed record OperatorResumed : VrrpEvent;
