using VipProxy.Forwarding.Scheduling;

namespace VipProxy.Forwarding.Tests.Scheduling;

public class MaglevTableTests
{
    private static readonly string[] Names = ["10.0.0.1:3306", "10.0.0.2:3306", "10.0.0.3:3306", "10.0.0.4:3306", "10.0.0.5:3306"];

    [Theory]
    [InlineData(new[] { 1, 1, 1, 1, 1 })]
    [InlineData(new[] { 1, 2, 3, 4, 5 })]
    [InlineData(new[] { 10, 1, 1, 1, 1 })]
    [InlineData(new[] { 0, 1, 0, 1, 2 })]
    public void Slots_are_shared_by_weight_within_two_percent(int[] weights)
    {
        int[] table = MaglevTable.Build(Names, weights);
        Assert.Equal(MaglevTable.DefaultSize, table.Length);
        Assert.DoesNotContain(MaglevTable.NoServer, table);

        for (int i = 0; i < Names.Length; i++)
        {
            double share = (double)table.Count(slot => slot == i) / table.Length;
            double expected = (double)weights[i] / weights.Sum();
            Assert.InRange(share, expected * 0.98, (expected * 1.02) + 1e-9);
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(2)]
    [InlineData(4)]
    public void Removing_a_server_moves_almost_only_its_own_slots(int removed)
    {
        int[] before = MaglevTable.Build(Names, [1, 1, 1, 1, 1]);
        string[] remaining = [.. Names.Where((_, i) => i != removed)];
        int[] after = MaglevTable.Build(remaining, [1, 1, 1, 1]);

        int kept = 0, movedAnyway = 0;
        for (int slot = 0; slot < before.Length; slot++)
        {
            if (before[slot] == removed)
            {
                continue;
            }

            if (Names[before[slot]] == remaining[after[slot]])
            {
                kept++;
            }
            else
            {
                movedAnyway++;
            }
        }

        // The removed server's fifth of the slots must move; of the others, Maglev moves only a few percent.
        Assert.True(movedAnyway < 0.05 * (kept + movedAnyway), $"{movedAnyway} of {kept + movedAnyway} slots of surviving servers moved");
    }

    [Fact]
    public void Draining_a_server_to_weight_zero_behaves_like_removing_it()
    {
        int[] removed = MaglevTable.Build(Names[..4], [1, 1, 1, 1]);
        int[] drained = MaglevTable.Build(Names, [1, 1, 1, 1, 0]);
        Assert.Equal(removed, drained);
    }

    [Fact]
    public void The_table_is_a_pure_function_of_names_and_weights()
    {
        Assert.Equal(MaglevTable.Build(Names, [1, 2, 3, 4, 5]), MaglevTable.Build([.. Names], [1, 2, 3, 4, 5]));

        // Golden values: both load balancer nodes, and every VipProxy version, must build the same table.
        int[] table = MaglevTable.Build(Names, [1, 1, 1, 1, 1]);
        Assert.Equal(GoldenPrefix, table[..16]);
    }

    [Fact]
    public void All_zero_or_no_servers_give_an_empty_table()
    {
        Assert.All(MaglevTable.Build(Names[..2], [0, 0]), slot => Assert.Equal(MaglevTable.NoServer, slot));
        Assert.All(MaglevTable.Build([], []), slot => Assert.Equal(MaglevTable.NoServer, slot));
    }

    [Fact]
    public void Rejects_bad_input()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => MaglevTable.Build(Names, [1, 1, 1, 1, 1], size: 65536));
        Assert.Throws<ArgumentException>(() => MaglevTable.Build(Names, [1, 1]));
        Assert.Throws<ArgumentOutOfRangeException>(() => MaglevTable.Build(Names[..1], [-1]));
        Assert.Throws<ArgumentException>(() => MaglevTable.Build(Names, [1, 1, 1, 1, 1], size: 5));
    }

    private static readonly int[] GoldenPrefix = [3, 2, 0, 4, 1, 1, 2, 0, 1, 1, 1, 0, 4, 4, 2, 0];
}
