using VipProxy.HealthChecks.Probes;

namespace VipProxy.HealthChecks.Tests.Support;

/// <summary>A probe whose answer the test sets; counts its calls.</summary>
internal sealed class ScriptedProbe(string name, bool up = true) : IHealthProbe
{
    private volatile bool _up = up;
    private int _calls;
    private volatile int _dynamicWeight = -1;

    public string Description => $"SCRIPTED {name}";

    public bool Up
    {
        get => _up;
        set => _up = value;
    }

    public int? DynamicWeight
    {
        get => _dynamicWeight < 0 ? null : _dynamicWeight;
        set => _dynamicWeight = value ?? -1;
    }

    public int Calls => Volatile.Read(ref _calls);

    public Task<ProbeResult> ProbeAsync(CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _calls);
        return Task.FromResult(_up ? ProbeResult.Up("scripted up", DynamicWeight) : ProbeResult.Down("scripted down", 99));
    }
}
