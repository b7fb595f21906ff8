using VipProxy.Lab;
using Xunit.Abstractions;

namespace VipProxy.HealthChecks.Tests.MySql;

/// <summary>The test server also runs inside a test LAN host (for the scenario tests), on the host's address.</summary>
[Collection(Support.MariaDbCollection.Name)]
[Trait("Category", "Root")]
public sealed class MariaDbInLanHostTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Starts_stops_and_restarts_inside_a_lan_host()
    {
        await using Lan lan = await Lan.CreateAsync(output.WriteLine, "db");
        LanHost host = lan.Hosts[0];
        await using MariaDbServer server = await MariaDbServer.StartAsync(host, 8066, output.WriteLine);

        string bound = await server.ExecuteSqlAsync("SELECT @@bind_address, @@port");
        await server.StopAsync();
        Assert.False(server.IsRunning);
        await server.StartAgainAsync();

        Assert.Equal($"{host.Address}\t8066", bound);
        Assert.Equal("1", await server.ExecuteSqlAsync("SELECT 1"));
    }
}
