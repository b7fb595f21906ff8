using VipProxy.Lab;

namespace VipProxy.HealthChecks.Tests.Support;

/// <summary>
/// One private MariaDB for the MariaDB tests, with a check account. If MariaDB cannot start, every test of the
/// collection fails with the reason: these tests prove MYSQL_CHECK and must never be skipped.
/// </summary>
public sealed class MariaDbFixture : IAsyncLifetime
{
    public const string User = "vipproxy_check";
    public const string Password = "Check-Pw-123";
    public const string Database = "app";

    private MariaDbServer? _server;

    public MariaDbServer Server => _server ?? throw new InvalidOperationException("MariaDB did not start");

    public async Task InitializeAsync()
    {
        _server = await MariaDbServer.StartAsync();
        await _server.CreateUserAsync(User, Password, "127.0.0.1");
        await _server.ExecuteSqlAsync($"CREATE DATABASE {Database}; GRANT SELECT ON {Database}.* TO '{User}'@'127.0.0.1';");
    }

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}
