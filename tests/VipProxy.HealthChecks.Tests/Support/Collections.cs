namespace VipProxy.HealthChecks.Tests.Support;

/// <summary>Tests against a real MariaDB: one server for the collection, tests one at a time (they read the
/// server's global counters).</summary>
[CollectionDefinition(Name)]
public sealed class MariaDbCollection : ICollectionFixture<MariaDbFixture>
{
    public const string Name = "MariaDB";
}

/// <summary>Tests that measure elapsed time: not run beside each other.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TimingCollection
{
    public const string Name = "Timing";
}
