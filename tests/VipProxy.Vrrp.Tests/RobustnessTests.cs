using VipProxy.Vrrp.Protocol;
using VipProxy.Vrrp.Tests.Support;
using static VipProxy.Vrrp.Tests.Support.TestAddresses;

namespace VipProxy.Vrrp.Tests;

/// <summary>
/// Regression for the keepalived 2.2.7 weakness measured on this LAN: a backup fed 10 invalid packets a second next to
/// a live master timed out and grabbed the VIP every ~3 s. Invalid packets must never touch the down timer.
/// </summary>
public sealed class RobustnessTests
{
    private static readonly TimeSpan MasterDown90 = TimeSpan.FromSeconds(3.6484375);
    private static readonly VrrpInstanceOptions Master = Options(NodeA, priority: 100);
    private static readonly VrrpInstanceOptions BackupOptions = Options(NodeB, priority: 90);

    private readonly SimulatedLan _lan = new();

    [Theory]
    [InlineData(10)]
    [InlineData(250)]
    public void Backup_fed_junk_beside_a_live_master_never_becomes_master(int junkPerSecond)
    {
        var backup = _lan.AddNode(BackupOptions);
        backup.Handle(new Startup());
        var junk = JunkDatagrams();
        var random = new Random(1234);
        int sent = 0;
        for (int second = 0; second < 60; second++)
        {
            for (int j = 0; j < junkPerSecond; j++)
            {
                var bytes = junk[sent++ % junk.Count];
                _lan.At(TimeSpan.FromSeconds(second) + TimeSpan.FromTicks(random.NextInt64(TimeSpan.TicksPerSecond)), () => backup.Receive(bytes));
            }

            _lan.At(TimeSpan.FromSeconds(second + 0.5), () => backup.Receive(AdvertFrom(Master, 100)));
        }

        _lan.RunUntil(TimeSpan.FromSeconds(60));

        Assert.Equal(VrrpState.Backup, backup.State);
        Assert.Equal(0, backup.Machine.Counters.BecameMaster);
        Assert.Empty(backup.Actions<AddVirtualAddresses>().Concat<VrrpAction>(backup.Actions<SendAdvertisement>()));
        Assert.Equal(60, backup.Machine.Counters.AdvertisementsReceived);
        Assert.Equal(60L * junkPerSecond, backup.Machine.Counters.TotalDropped);
        Assert.Equal(_lan.Origin + TimeSpan.FromSeconds(59.5) + MasterDown90, backup.Machine.GetTimerDeadline(VrrpTimer.MasterDown));
    }

    [Fact]
    public void Junk_does_not_keep_a_dead_master_alive_either()
    {
        var backup = _lan.AddNode(BackupOptions);
        backup.Handle(new Startup());
        var junk = JunkDatagrams();
        for (int i = 0; i < 100; i++)
        {
            var bytes = junk[i % junk.Count];
            _lan.At(TimeSpan.FromSeconds(i * 0.1), () => backup.Receive(bytes));
        }

        _lan.RunUntil(TimeSpan.FromSeconds(10));

        Assert.Equal(MasterDown90, backup.LastNotified(NotifyState.Master));
    }

    /// <summary>Ten kinds of invalid datagram, several spoofing the real master's address.</summary>
    private static List<byte[]> JunkDatagrams()
    {
        var badChecksum = AdvertFrom(Master, 100);
        badChecksum[27] ^= 0x55;
        var truncated = AdvertFrom(Master, 100)[..30];
        var notVrrp = AdvertFrom(Master, 100);
        notVrrp[9] = 17;
        var random = new byte[40];
        new Random(42).NextBytes(random);
        return
        [
            badChecksum,
            AdvertFrom(Master with { AuthPassword = "guess" }, 200),
            AdvertFrom(Master, 100, ttl: 64),
            AdvertFrom(Master with { AdvertisementInterval = TimeSpan.FromSeconds(2) }, 100),
            truncated,
            AdvertFrom(Master with { AuthType = VrrpAuthType.None, AuthPassword = null }, 100),
            random,
            AdvertFrom(Options(NodeC) with { VirtualRouterId = 52 }, 100),
            AdvertFrom(Options(NodeA, version: VrrpVersion.V3), 100),
            notVrrp,
        ];
    }
}
