using VipProxy.Config;
using VipProxy.Host.Platform;

namespace VipProxy.Host;

/// <summary>
/// Loads the configuration exactly as <c>vipproxy check</c> does, so start-up, reload and check agree on
/// what is valid and print the same diagnostics.
/// </summary>
public static class ConfigFile
{
    public static ConfigLoadResult Load(string path, string? nodeId) =>
        ConfigLoader.Load(path, new ConfigLoadOptions(nodeId, HostInterfaces.Read()));
}
