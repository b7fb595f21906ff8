namespace VipProxy.Forwarding.Tests.Support;

/// <summary>Tests that assert deadlines or memory bounds run alone, so parallel tests cannot starve them.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TimingCollection
{
    public const string Name = "Timing-sensitive forwarding";
}
