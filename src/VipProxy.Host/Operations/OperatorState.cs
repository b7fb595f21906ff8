using System.Collections.Immutable;
using System.Globalization;
using System.Net;
using VipProxy.Forwarding.Runtime;

namespace VipProxy.Host.Operations;

/// <summary>
/// Everything an operator changed at run time: overridden real servers and demoted VRRP instances, each with when it
/// was set. Immutable and pure; <see cref="OperatorStateFile"/> keeps it on disk, the node applies it to the planes.
/// </summary>
public sealed record OperatorState(ImmutableArray<ServerOverride> Servers, ImmutableArray<InstanceOverride> Instances)
{
    public static OperatorState Empty { get; } = new([], []);

    /// <summary>The override of <paramref name="realServer"/> in <paramref name="virtualServer"/>, or null.</summary>
    public ServerOverride? Find(IPEndPoint virtualServer, IPEndPoint realServer)
    {
        foreach (ServerOverride entry in Servers)
        {
            if (entry.Matches(virtualServer, realServer))
            {
                return entry;
            }
        }

        return null;
    }

    /// <summary>The demotion of <paramref name="instance"/>, or null.</summary>
    public InstanceOverride? FindInstance(string instance)
    {
        foreach (InstanceOverride entry in Instances)
        {
            if (entry.Instance == instance)
            {
                return entry;
            }
        }

        return null;
    }

    /// <summary>This state with <paramref name="virtualServer"/>/<paramref name="realServer"/> set to
    /// <paramref name="state"/> at <paramref name="at"/>; an empty override removes the entry.</summary>
    public OperatorState WithServer(IPEndPoint virtualServer, IPEndPoint realServer, RealServerOperatorState state, DateTimeOffset at)
    {
        ArgumentNullException.ThrowIfNull(state);
        ImmutableArray<ServerOverride> others = [.. Servers.Where(entry => !entry.Matches(virtualServer, realServer))];
        return this with
        {
            Servers = state.IsNone ? others : others.Add(ServerOverride.From(virtualServer, realServer, state, at)),
        };
    }

    /// <summary>This state with <paramref name="instance"/> demoted (set at <paramref name="at"/>) or not.</summary>
    public OperatorState WithInstance(string instance, bool demoted, DateTimeOffset at)
    {
        ImmutableArray<InstanceOverride> others = [.. Instances.Where(entry => entry.Instance != instance)];
        return this with { Instances = demoted ? others.Add(new InstanceOverride(instance, at)) : others };
    }

    /// <summary>
    /// Keeps the entries whose real server and instance still exist (after a reload or at a restart with another
    /// file); the others are returned as text for the log. Pure.
    /// </summary>
    public (OperatorState Kept, ImmutableArray<string> Dropped) KeepExisting(Func<IPEndPoint, IPEndPoint, bool> serverExists, Func<string, bool> instanceExists)
    {
        ArgumentNullException.ThrowIfNull(serverExists);
        ArgumentNullException.ThrowIfNull(instanceExists);
        var dropped = ImmutableArray.CreateBuilder<string>();
        var servers = ImmutableArray.CreateBuilder<ServerOverride>();
        foreach (ServerOverride entry in Servers)
        {
            if (entry.TryParse(out IPEndPoint? virtualServer, out IPEndPoint? realServer) && serverExists(virtualServer, realServer))
            {
                servers.Add(entry);
            }
            else
            {
                dropped.Add($"real_server {entry.RealServer} of virtual_server {entry.VirtualServer} ({entry.Describe()})");
            }
        }

        var instances = ImmutableArray.CreateBuilder<InstanceOverride>();
        foreach (InstanceOverride entry in Instances)
        {
            if (instanceExists(entry.Instance))
            {
                instances.Add(entry);
            }
            else
            {
                dropped.Add($"vrrp_instance {entry.Instance} (demoted)");
            }
        }

        return (new OperatorState(servers.ToImmutable(), instances.ToImmutable()), dropped.ToImmutable());
    }

    /// <summary>Entry-by-entry equality (the arrays themselves compare by reference).</summary>
    public bool SameAs(OperatorState other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return Servers.SequenceEqual(other.Servers) && Instances.SequenceEqual(other.Instances);
    }
}

/// <summary>One overridden real server, as the state file and <c>status</c> show it.</summary>
/// <param name="VirtualServer">The virtual server, <c>ADDR:PORT</c>.</param>
/// <param name="RealServer">The real server, <c>ADDR:PORT</c>.</param>
/// <param name="Mode"><c>drain</c>, <c>disable</c> or <c>none</c> (only a runtime weight).</param>
/// <param name="Weight">The runtime weight, or null for the configured one.</param>
/// <param name="SetAt">When the operator last changed it.</param>
public sealed record ServerOverride(string VirtualServer, string RealServer, string Mode, int? Weight, DateTimeOffset SetAt)
{
    public static ServerOverride From(IPEndPoint virtualServer, IPEndPoint realServer, RealServerOperatorState state, DateTimeOffset at)
    {
        ArgumentNullException.ThrowIfNull(virtualServer);
        ArgumentNullException.ThrowIfNull(realServer);
        ArgumentNullException.ThrowIfNull(state);
        return new(virtualServer.ToString(), realServer.ToString(), ModeName(state.Mode), state.Weight, at);
    }

    public static string ModeName(OperatorMode mode) => mode switch
    {
        OperatorMode.Drain => "drain",
        OperatorMode.Disable => "disable",
        _ => "none",
    };

    /// <summary>The forwarder's view; an unknown mode (a hand-edited file) reads as disable, the safe side.</summary>
    public RealServerOperatorState ToForwarding() => new(
        Mode switch
        {
            "none" => OperatorMode.None,
            "drain" => OperatorMode.Drain,
            _ => OperatorMode.Disable,
        },
        Weight is >= 0 and <= RealServerOperatorState.MaxWeight ? Weight : null);

    public bool Matches(IPEndPoint virtualServer, IPEndPoint realServer) =>
        TryParse(out IPEndPoint? vs, out IPEndPoint? rs) && vs.Equals(virtualServer) && rs.Equals(realServer);

    public bool TryParse([System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out IPEndPoint? virtualServer, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out IPEndPoint? realServer)
    {
        realServer = null;
        return IPEndPoint.TryParse(VirtualServer, out virtualServer) && IPEndPoint.TryParse(RealServer, out realServer);
    }

    /// <summary>"drain", "weight 5", "disable, weight 0".</summary>
    public string Describe() => (Mode, Weight) switch
    {
        ("none", int weight) => string.Create(CultureInfo.InvariantCulture, $"weight {weight}"),
        (string mode, int weight) => string.Create(CultureInfo.InvariantCulture, $"{mode}, weight {weight}"),
        (string mode, null) => mode,
    };
}

/// <summary>One demoted VRRP instance.</summary>
public sealed record InstanceOverride(string Instance, DateTimeOffset SetAt);
