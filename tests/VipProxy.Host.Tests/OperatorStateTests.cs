using System.Net;
using System.Text.Json;
using VipProxy.Forwarding.Runtime;
using VipProxy.Host.Operations;

namespace VipProxy.Host.Tests;

/// <summary>The operator state document (pure) and its file (atomic write, round trip).</summary>
public sealed class OperatorStateTests : IDisposable
{
    private static readonly IPEndPoint Vs = IPEndPoint.Parse("198.18.0.100:3306");
    private static readonly IPEndPoint Rs1 = IPEndPoint.Parse("198.18.1.11:3306");
    private static readonly IPEndPoint Rs2 = IPEndPoint.Parse("198.18.1.12:3306");
    private static readonly DateTimeOffset At = new(2026, 12, 3, 10, 0, 0, TimeSpan.Zero);

    private readonly string _directory = Directory.CreateTempSubdirectory("vipproxy-state-").FullName;

    [Fact]
    public void Setting_replaces_the_entry_and_an_empty_override_removes_it()
    {
        OperatorState state = OperatorState.Empty
            .WithServer(Vs, Rs1, new RealServerOperatorState(OperatorMode.Drain, null), At)
            .WithServer(Vs, Rs2, new RealServerOperatorState(OperatorMode.None, 0), At)
            .WithServer(Vs, Rs1, new RealServerOperatorState(OperatorMode.Drain, 4), At.AddMinutes(1));
        Assert.Equal(2, state.Servers.Length);
        Assert.Equal(new ServerOverride("198.18.0.100:3306", "198.18.1.11:3306", "drain", 4, At.AddMinutes(1)), state.Find(Vs, Rs1));
        Assert.Equal(new RealServerOperatorState(OperatorMode.Drain, 4), state.Find(Vs, Rs1)!.ToForwarding());
        Assert.Equal("drain, weight 4", state.Find(Vs, Rs1)!.Describe());

        state = state.WithServer(Vs, Rs1, RealServerOperatorState.None, At);
        Assert.Null(state.Find(Vs, Rs1));
        Assert.Equal("weight 0", Assert.Single(state.Servers).Describe());
    }

    [Fact]
    public void Entries_for_servers_and_instances_that_no_longer_exist_are_dropped_and_named()
    {
        OperatorState state = OperatorState.Empty
            .WithServer(Vs, Rs1, new RealServerOperatorState(OperatorMode.Drain, null), At)
            .WithServer(Vs, Rs2, new RealServerOperatorState(OperatorMode.Disable, null), At)
            .WithInstance("VI_1", demoted: true, At)
            .WithInstance("VI_2", demoted: true, At);

        var (kept, dropped) = state.KeepExisting((vs, rs) => vs.Equals(Vs) && rs.Equals(Rs1), name => name == "VI_1");

        Assert.Equal(Rs1.ToString(), Assert.Single(kept.Servers).RealServer);
        Assert.Equal("VI_1", Assert.Single(kept.Instances).Instance);
        Assert.Equal(["real_server 198.18.1.12:3306 of virtual_server 198.18.0.100:3306 (disable)", "vrrp_instance VI_2 (demoted)"], dropped.ToArray());
        Assert.Null(kept.WithInstance("VI_1", demoted: false, At).FindInstance("VI_1"));
    }

    [Fact]
    public void A_hand_edited_unknown_mode_reads_as_disable_and_an_out_of_range_weight_is_ignored()
    {
        var entry = new ServerOverride(Vs.ToString(), Rs1.ToString(), "maintenance", 70000, At);
        Assert.Equal(new RealServerOperatorState(OperatorMode.Disable, null), entry.ToForwarding());
    }

    [Fact]
    public void The_file_round_trips_and_is_replaced_atomically_without_leftovers()
    {
        string path = Path.Combine(_directory, "sub", "state.json");
        Assert.Same(OperatorState.Empty, OperatorStateFile.Load(path));
        OperatorState state = OperatorState.Empty
            .WithServer(Vs, Rs1, new RealServerOperatorState(OperatorMode.Drain, null), At)
            .WithInstance("VI_1", demoted: true, At);

        OperatorStateFile.Save(path, state);
        OperatorStateFile.Save(path, state.WithServer(Vs, Rs2, new RealServerOperatorState(OperatorMode.None, 7), At));

        OperatorState loaded = OperatorStateFile.Load(path);
        Assert.Equal(2, loaded.Servers.Length);
        Assert.Equal(state.Find(Vs, Rs1), loaded.Find(Vs, Rs1));
        Assert.Equal(7, loaded.Find(Vs, Rs2)!.Weight);
        Assert.Equal(At, loaded.FindInstance("VI_1")!.SetAt);
        Assert.Equal(["state.json"], Directory.GetFiles(Path.GetDirectoryName(path)!).Select(Path.GetFileName));
        string json = File.ReadAllText(path);
        Assert.Contains("\"virtual_server\": \"198.18.0.100:3306\"", json, StringComparison.Ordinal);
        Assert.Contains("\"set_at\"", json, StringComparison.Ordinal);
    }

    [Fact]
    public void A_corrupt_file_is_reported_not_guessed()
    {
        string path = Path.Combine(_directory, "state.json");
        File.WriteAllText(path, "{ \"servers\": [ {");
        Assert.ThrowsAny<JsonException>(() => OperatorStateFile.Load(path));
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
