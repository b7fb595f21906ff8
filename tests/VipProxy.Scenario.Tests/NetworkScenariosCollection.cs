namespace VipProxy.Scenario.Tests;

/// <summary>
/// Scenario tests build namespace LANs and run daemons with timing-sensitive behaviour (VRRP failover), so they run
/// one at a time on this 2-core machine. Join with [Collection(NetworkScenariosCollection.Name)].
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class NetworkScenariosCollection
{
    public const string Name = "Network scenarios";
}
