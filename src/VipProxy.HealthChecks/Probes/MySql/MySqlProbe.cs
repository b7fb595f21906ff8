using System.Net.Sockets;
using System.Text.RegularExpressions;
using VipProxy.Config.Model;

namespace VipProxy.HealthChecks.Probes.MySql;

/// <summary>
/// <c>MYSQL_CHECK</c>, on a raw socket: read the greeting, log in with the configured account, COM_PING, COM_QUIT,
/// and let the server close. Every probe is a complete, clean session, so it never counts in the server's
/// <c>Aborted_connects</c> or towards <c>max_connect_errors</c> (error 1129, host blocked) — unlike a
/// connect-and-close TCP_CHECK or HAProxy's mysql-check (which also fails on MySQL 8's default
/// caching_sha2_password).
/// </summary>
/// <remarks>
/// Without <c>user</c> the probe reads the greeting only: up on a valid greeting, down on an ERR (e.g. 1129, 1040);
/// each such probe is an aborted connect (the configuration checker warns about it). Any ERR reports the server's
/// error code and message, e.g. 1045 Access denied.
/// </remarks>
public sealed class MySqlProbe : IHealthProbe
{
    private const byte ComQuit = 0x01;
    private const byte ComPing = 0x0e;

    // After COM_QUIT the server closes at once; waiting for that close keeps the session clean on both sides.
    private static readonly TimeSpan QuitGrace = TimeSpan.FromSeconds(1);

    private readonly ProbeTarget _target;
    private readonly MySqlCredentials? _credentials;
    private readonly TimeProvider _timeProvider;
    private readonly MySqlCheck _check;
    private readonly Regex? _expectRegex;

    /// <summary>Creates the probe.</summary>
    public MySqlProbe(ProbeTarget target, MySqlCheck check, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(check);
        _target = target;
        _credentials = check.User is null ? null : new MySqlCredentials(check.User, check.Password ?? string.Empty, check.Database);
        _timeProvider = timeProvider ?? TimeProvider.System;
        _check = check;
        _expectRegex = check.ExpectRegex is null ? null : MySqlRoleVerdict.CompileExpectRegex(check.ExpectRegex);
    }

    /// <inheritdoc/>
    public string Description => $"MYSQL_CHECK {_target}";

    /// <inheritdoc/>
    public Task<ProbeResult> ProbeAsync(CancellationToken cancellationToken) =>
        SocketProbeRunner.RunAsync(_target, _timeProvider, ExchangeAsync, cancellationToken);

    private async Task<ProbeResult> ExchangeAsync(Socket socket, ProbeStep step, CancellationToken deadline)
    {
        var channel = new MySqlPacketChannel(socket);
        step.Current = "reading the greeting";
        MySqlPacket first = await channel.ReadAsync(deadline).ConfigureAwait(false);
        if (first.IsError)
        {
            return MySqlErrorPacket.Parse(first.Payload).ToProbeResult("the server refused the connection");
        }

        MySqlGreeting greeting = MySqlGreeting.Parse(first.Payload);
        if (_credentials is null)
        {
            return ProbeResult.Up($"greeting from {greeting.DisplayVersion} (no user: not logged in)");
        }

        if (!greeting.Capabilities.HasFlag(MySqlCapabilities.Protocol41))
        {
            return ProbeResult.Down($"{greeting.DisplayVersion} does not speak protocol 4.1");
        }

        step.Current = $"logging in as '{_credentials.User}'";
        ProbeResult? refused = await MySqlLogin.RunAsync(channel, greeting, _credentials, deadline).ConfigureAwait(false);
        if (refused is not null)
        {
            return refused;
        }

        if (!_check.IsPingOnly)
        {
            return await AskRoleAsync(channel, greeting, step, deadline).ConfigureAwait(false);
        }

        step.Current = "waiting for the reply to COM_PING";
        await channel.WriteCommandAsync(ComPing, deadline).ConfigureAwait(false);
        MySqlPacket pong = await channel.ReadAsync(deadline).ConfigureAwait(false);
        if (pong.IsError)
        {
            return MySqlErrorPacket.Parse(pong.Payload).ToProbeResult("COM_PING failed");
        }

        if (!pong.IsOk)
        {
            throw new InvalidDataException($"unexpected packet 0x{pong.Header:x2} in reply to COM_PING");
        }

        step.Current = "quitting";
        await channel.WriteCommandAsync(ComQuit, deadline).ConfigureAwait(false);
        await WaitForServerCloseAsync(channel, deadline).ConfigureAwait(false);
        return ProbeResult.Up($"logged in as '{_credentials.User}' to {greeting.DisplayVersion}, ping OK");
    }

    /// <summary>The role keywords: their statements instead of COM_PING (an answer proves the session works just
    /// as well), then COM_QUIT, then the verdict on the answers. A statement the server refuses (ERR) leaves the
    /// session usable, so the others still run and the session still ends cleanly.</summary>
    private async Task<ProbeResult> AskRoleAsync(MySqlPacketChannel channel, MySqlGreeting greeting, ProbeStep step, CancellationToken deadline)
    {
        MySqlCapabilities negotiated = MySqlHandshakeResponse.Negotiate(greeting.Capabilities, _credentials!.Database is not null);
        async Task<MySqlQueryOutcome?> RunAsync(string? statement)
        {
            if (statement is null)
            {
                return null;
            }

            step.Current = $"waiting for the reply to {statement}";
            return await MySqlQuery.RunAsync(channel, statement, negotiated, deadline).ConfigureAwait(false);
        }

        string version = greeting.DisplayVersion;
        MySqlQueryOutcome? variables = await RunAsync(MySqlRoleVerdict.VariablesStatement(_check)).ConfigureAwait(false);
        MySqlQueryOutcome? galera = await RunAsync(_check.Galera ? MySqlRoleVerdict.GaleraStatusStatement : null).ConfigureAwait(false);
        MySqlQueryOutcome? replica = await RunAsync(_check.MaxReplicationLag is null ? null : MySqlRoleVerdict.ReplicaStatusStatement(version))
            .ConfigureAwait(false);
        MySqlQueryOutcome? query = await RunAsync(_check.Query).ConfigureAwait(false);

        step.Current = "quitting";
        await channel.WriteCommandAsync(ComQuit, deadline).ConfigureAwait(false);
        await WaitForServerCloseAsync(channel, deadline).ConfigureAwait(false);

        ProbeResult verdict = MySqlRoleVerdict.Decide(_check, new MySqlServerAnswers(version, variables, galera, replica, query), _expectRegex);
        return verdict.IsUp ? verdict with { Reason = $"logged in as '{_credentials.User}' to {version}: {verdict.Reason}" } : verdict;
    }

    private async Task WaitForServerCloseAsync(MySqlPacketChannel channel, CancellationToken deadline)
    {
        // The check already passed; a server slow to hang up must not turn it into a failure.
        using var grace = new CancellationTokenSource(QuitGrace, _timeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(grace.Token, deadline);
        try
        {
            await channel.WaitForCloseAsync(linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
        catch (SocketException)
        {
        }
    }
}
