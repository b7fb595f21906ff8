using VipProxy.Config.Binding;

namespace VipProxy.Config;

/// <param name="NodeId">Selects <c>@ID</c> lines, as keepalived's config id (default there: the short host name).</param>
/// <param name="HostInterfaces">The host's IPv4 interface addresses, for VIP-subnet warnings; null skips those checks.</param>
public sealed record ConfigLoadOptions(string? NodeId = null, IReadOnlyList<HostInterface>? HostInterfaces = null);
