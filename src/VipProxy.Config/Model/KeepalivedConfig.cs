namespace VipProxy.Config.Model;

/// <summary>The whole effective configuration of one host, every default filled in.</summary>
public sealed record KeepalivedConfig(
    GlobalDefinitions Global,
    ValueList<VrrpScript> VrrpScripts,
    ValueList<VrrpInstance> VrrpInstances,
    ValueList<VirtualServer> VirtualServers);
