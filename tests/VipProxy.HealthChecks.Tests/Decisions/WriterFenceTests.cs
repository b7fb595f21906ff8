using VipProxy.Config.Model;
using VipProxy.HealthChecks.Decisions;
using VipProxy.HealthChecks.Tests.Support;

namespace VipProxy.HealthChecks.Tests.Decisions;

/// <summary>Issue 16: the writer pool never forwards to two writable servers; the policy decides what a conflict does.</summary>
public class WriterFenceTests
{
    private static WriterFence Fence(WriterConflictPolicy policy, params bool[] initiallyUp) =>
        new([.. initiallyUp.Select(_ => true)], initiallyUp, policy);

    [Fact]
    public void One_writable_server_is_forwarded_as_its_check_says()
    {
        var fence = Fence(WriterConflictPolicy.Refuse, true, false);
        Assert.True(fence.Forwards(0));
        Assert.False(fence.Forwards(1));
        Assert.False(fence.InConflict);

        Assert.Equal([(0, false)], fence.Report(0, false));
        Assert.Equal([(1, true)], fence.Report(1, true));
        Assert.Equal(0, fence.Conflicts);
    }

    [Fact]
    public void A_second_writer_under_refuse_withdraws_the_first_and_takes_neither_until_one_is_read_only()
    {
        var fence = Fence(WriterConflictPolicy.Refuse, true, false);

        Assert.Equal([(0, false)], fence.Report(1, true));
        Assert.True(fence.InConflict);
        Assert.Equal(1, fence.Conflicts);
        Assert.Equal([0, 1], fence.Writable());
        Assert.False(fence.Forwards(0));
        Assert.False(fence.Forwards(1));

        // The old primary goes read-only: the new one is taken.
        Assert.Equal([(1, true)], fence.Report(0, false));
        Assert.False(fence.InConflict);
        Assert.Equal(1, fence.Conflicts);
    }

    [Fact]
    public void Under_first_the_first_writable_in_configuration_order_keeps_the_traffic()
    {
        var fence = Fence(WriterConflictPolicy.First, false, true, false);

        Assert.Empty(fence.Report(2, true));
        Assert.True(fence.InConflict);
        Assert.True(fence.Forwards(1));
        Assert.False(fence.Forwards(2));

        // The first now fails: the third is taken, and the first coming back takes over again.
        Assert.Equal([(1, false), (2, true)], fence.Report(1, false));
        Assert.False(fence.InConflict);
        Assert.Equal([(2, false), (0, true)], fence.Report(0, true));
        Assert.Equal(2, fence.Conflicts);
    }

    [Fact]
    public void Withdrawals_come_before_admissions_so_no_instant_has_two_writers()
    {
        var fence = Fence(WriterConflictPolicy.First, false, true);
        var changes = fence.Report(0, true);
        Assert.Equal([(1, false), (0, true)], changes);
    }

    [Fact]
    public void Servers_that_are_not_writers_pass_their_verdict_through()
    {
        var fence = new WriterFence([true, false, true], [true, true, false], WriterConflictPolicy.Refuse);
        Assert.True(fence.Forwards(1));
        Assert.Equal([(0, false)], fence.Report(2, true));
        Assert.True(fence.Forwards(1));
        Assert.Equal([(1, false)], fence.Report(1, false));
        Assert.True(fence.InConflict);
    }

    [Fact]
    public void Writers_assumed_up_before_their_first_check_are_held_back_but_not_counted()
    {
        var fence = Fence(WriterConflictPolicy.Refuse, true, true);
        Assert.True(fence.InConflict);
        Assert.Equal(0, fence.Conflicts);
        Assert.False(fence.Forwards(0));
        Assert.False(fence.Forwards(1));
        Assert.Equal([(0, true)], fence.Report(1, false));
    }

    [Fact]
    public void Only_role_primary_mysql_checks_make_a_writer()
    {
        CheckSettings settings = Settings.Check();
        RealServer Server(HealthCheck check) => new(new System.Net.IPEndPoint(System.Net.IPAddress.Parse("198.18.1.1"), 3306), 1, false, null, null, null, new([check]));
        Assert.True(WriterFence.IsWriter(Server(new MySqlCheck(settings, "u", "p", null) { Role = MySqlRole.Primary })));
        Assert.False(WriterFence.IsWriter(Server(new MySqlCheck(settings, "u", "p", null) { Role = MySqlRole.Replica })));
        Assert.False(WriterFence.IsWriter(Server(new MySqlCheck(settings, "u", "p", null))));
    }
}
