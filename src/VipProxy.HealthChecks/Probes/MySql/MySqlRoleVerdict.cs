using System.Globalization;
using System.Text.RegularExpressions;
using VipProxy.Config.Model;

namespace VipProxy.HealthChecks.Probes.MySql;

/// <summary>What the server answered to the statements a MYSQL_CHECK's role keywords asked for; null where a
/// keyword is not set.</summary>
/// <param name="Server">The server, e.g. "10.11.6-MariaDB" or "8.0.36" (the greeting's version).</param>
internal sealed record MySqlServerAnswers(
    string Server,
    MySqlQueryOutcome? Variables,
    MySqlQueryOutcome? GaleraStatus,
    MySqlQueryOutcome? ReplicaStatus,
    MySqlQueryOutcome? Query);

/// <summary>
/// The statements the role keywords need and the verdict on their answers: a pure function from query results to
/// up/down and a reason. Checks run in a fixed order (role, Galera, replication lag, query); the first that fails
/// is the reason for down, otherwise the reasons of all are joined.
/// </summary>
internal static class MySqlRoleVerdict
{
    /// <summary>ER_SPECIFIC_ACCESS_DENIED_ERROR: "you need (at least one of) the … privilege(s)".</summary>
    public const int SpecificAccessDenied = 1227;

    private const int MaxShownValue = 80;

    /// <summary>Variables are read with SHOW, which both MySQL and MariaDB have and which lists a variable the
    /// server lacks (MariaDB's super_read_only) as no row instead of failing.</summary>
    public static string? VariablesStatement(MySqlCheck check)
    {
        var names = new List<string>();
        if (check.Role != MySqlRole.Any)
        {
            names.AddRange(["read_only", "super_read_only"]);
        }

        if (check.Galera)
        {
            names.Add("wsrep_desync");
        }

        return names.Count == 0 ? null : $"SHOW GLOBAL VARIABLES WHERE Variable_name IN ({string.Join(", ", names.Select(n => $"'{n}'"))})";
    }

    public const string GaleraStatusStatement =
        "SHOW GLOBAL STATUS WHERE Variable_name IN ('wsrep_ready', 'wsrep_local_state', 'wsrep_local_state_comment')";

    /// <summary>MariaDB: SHOW SLAVE STATUS (all versions). MySQL: SHOW REPLICA STATUS from 8.0.22 (8.4 removed the
    /// old name), SHOW SLAVE STATUS before.</summary>
    public static string ReplicaStatusStatement(string serverVersion) =>
        !IsMariaDb(serverVersion) && VersionAtLeast(serverVersion, 8, 0, 22) ? "SHOW REPLICA STATUS" : "SHOW SLAVE STATUS";

    public static bool IsMariaDb(string serverVersion) => serverVersion.Contains("MariaDB", StringComparison.OrdinalIgnoreCase);

    public static ProbeResult Decide(MySqlCheck check, MySqlServerAnswers answers, Regex? expectRegex = null)
    {
        var reasons = new List<string>();
        int? weightPercent = null;
        foreach (Func<MySqlCheck, MySqlServerAnswers, Regex?, Part> step in new Func<MySqlCheck, MySqlServerAnswers, Regex?, Part>[] { Role, Galera, Lag, Query })
        {
            Part part = step(check, answers, expectRegex);
            if (part.Reason is null)
            {
                continue;
            }

            if (!part.Up)
            {
                return ProbeResult.Down(part.Reason, part.ErrorCode);
            }

            reasons.Add(part.Reason);
            weightPercent ??= part.WeightPercent;
        }

        return ProbeResult.Up(string.Join("; ", reasons)) with { WeightPercent = weightPercent };
    }

    private readonly record struct Part(bool Up, string? Reason, int? ErrorCode = null)
    {
        public int? WeightPercent { get; init; }

        public static readonly Part Skipped = new(true, null);

        public static Part Pass(string reason) => new(true, reason);

        public static Part Fail(string reason, int? code = null) => new(false, reason, code);

        public static Part Failed(MySqlErrorPacket error, string statement) =>
            Fail($"{statement} failed: error {error.Code}: {error.Message}", error.Code);
    }

    private static Part Role(MySqlCheck check, MySqlServerAnswers answers, Regex? unused)
    {
        if (check.Role == MySqlRole.Any)
        {
            return Part.Skipped;
        }

        if (!TryNameValues(answers.Variables, out IReadOnlyDictionary<string, string?> variables, out Part failure))
        {
            return failure;
        }

        string role = check.Role == MySqlRole.Primary ? "role primary" : "role replica";
        if (!variables.TryGetValue("read_only", out string? readOnlyText) || ParseOnOff(readOnlyText) is not { } readOnly)
        {
            return Part.Fail($"the server did not report read_only ({Show(readOnlyText)}), {role}");
        }

        bool? superReadOnly = variables.TryGetValue("super_read_only", out string? superText) ? ParseOnOff(superText) : null;
        string state = $"read_only={OnOff(readOnly)}" + (superReadOnly is { } s ? $", super_read_only={OnOff(s)}" : string.Empty);
        if (check.Role == MySqlRole.Primary)
        {
            // super_read_only ON implies read_only ON on MySQL; either one makes the server refuse writes.
            if (readOnly)
            {
                return Part.Fail($"read_only=ON, {role}");
            }

            return superReadOnly == true ? Part.Fail($"super_read_only=ON, {role}") : Part.Pass($"{state}, {role}");
        }

        return readOnly ? Part.Pass($"{state}, {role}") : Part.Fail($"read_only=OFF, {role}");
    }

    private static Part Galera(MySqlCheck check, MySqlServerAnswers answers, Regex? unused)
    {
        if (!check.Galera)
        {
            return Part.Skipped;
        }

        if (!TryNameValues(answers.GaleraStatus, out IReadOnlyDictionary<string, string?> status, out Part failure))
        {
            return failure;
        }

        if (!status.TryGetValue("wsrep_ready", out string? readyText))
        {
            return Part.Fail("not a Galera node: no wsrep_ready status");
        }

        if (ParseOnOff(readyText) != true)
        {
            return Part.Fail($"wsrep_ready={readyText ?? "NULL"}");
        }

        if (!TryNameValues(answers.Variables, out IReadOnlyDictionary<string, string?> variables, out Part variablesFailure))
        {
            return variablesFailure;
        }

        if (variables.TryGetValue("wsrep_desync", out string? desync) && ParseOnOff(desync) == true)
        {
            return Part.Fail("wsrep_desync=ON");
        }

        status.TryGetValue("wsrep_local_state", out string? stateText);
        if (!int.TryParse(stateText, NumberStyles.None, CultureInfo.InvariantCulture, out int state))
        {
            return Part.Fail($"wsrep_local_state {Show(stateText)} is not a number");
        }

        string comment = status.TryGetValue("wsrep_local_state_comment", out string? c) && !string.IsNullOrEmpty(c) ? c : StateName(state);
        string described = $"wsrep_local_state {state} ({comment})";
        return state switch
        {
            4 => Part.Pass(described),
            2 when check.GaleraDonorOk => Part.Pass($"{described}, galera_donor_ok"),
            _ => Part.Fail(described),
        };
    }

    private static Part Lag(MySqlCheck check, MySqlServerAnswers answers, Regex? unused)
    {
        if (check.MaxReplicationLag is not { } max)
        {
            return Part.Skipped;
        }

        string statement = answers.ReplicaStatus?.Statement ?? ReplicaStatusStatement(answers.Server);
        if (answers.ReplicaStatus is not { } outcome)
        {
            return Part.Fail($"{statement} was not run");
        }

        if (outcome.Error is { } error)
        {
            return error.Code == SpecificAccessDenied
                ? Part.Fail($"{statement} denied: needs {ReplicaPrivilege(answers.Server)}: error {error.Code}: {error.Message}", error.Code)
                : Part.Failed(error, statement);
        }

        MySqlResultSet result = outcome.Result!;
        if (result.Rows.Count == 0)
        {
            // Not configured as a replica (a primary): there is no lag to exceed.
            return Part.Pass($"not a replica ({statement} is empty)");
        }

        if (!result.TryGetFirst("Seconds_Behind_Master", out string? seconds) && !result.TryGetFirst("Seconds_Behind_Source", out seconds))
        {
            return Part.Fail($"{statement} has no Seconds_Behind_Master column");
        }

        if (seconds is null)
        {
            string io = First(result, "Slave_IO_Running", "Replica_IO_Running");
            string sql = First(result, "Slave_SQL_Running", "Replica_SQL_Running");
            return Part.Fail($"replication stopped: Seconds_Behind_Master NULL (IO thread {io}, SQL thread {sql})");
        }

        if (!long.TryParse(seconds, NumberStyles.None, CultureInfo.InvariantCulture, out long lag))
        {
            return Part.Fail($"Seconds_Behind_Master {Show(seconds)} is not a number");
        }

        if (check.LagWeight)
        {
            int percent = LagWeightPercent(lag, max);
            return Part.Pass(lag > max ? $"lag {lag} s > {max} s: weight 0 %" : $"lag {lag} s <= {max} s: weight {percent} %") with { WeightPercent = percent };
        }

        return lag > max ? Part.Fail($"lag {lag} s > {max} s") : Part.Pass($"lag {lag} s <= {max} s");
    }

    /// <summary>
    /// <c>lag_weight on</c>: the share of the weight a replica lagging <paramref name="lag"/> seconds keeps — 100 % in
    /// sync, falling linearly to 1/(max+1) at <paramref name="max"/> (still taking some connections), 0 % beyond it
    /// (up, but no new connections: it still serves the sessions it has and catches up).
    /// </summary>
    public static int LagWeightPercent(long lag, int max)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(lag);
        ArgumentOutOfRangeException.ThrowIfNegative(max);
        if (lag > max)
        {
            return 0;
        }

        return (int)Math.Max(1, Math.Round(100.0 * (max - lag + 1) / (max + 1), MidpointRounding.AwayFromZero));
    }

    private static Part Query(MySqlCheck check, MySqlServerAnswers answers, Regex? expectRegex)
    {
        if (check.Query is null)
        {
            return Part.Skipped;
        }

        if (answers.Query is not { } outcome)
        {
            return Part.Fail("query was not run");
        }

        if (outcome.Error is { } error)
        {
            return Part.Fail($"query failed: error {error.Code}: {error.Message}", error.Code);
        }

        MySqlResultSet result = outcome.Result!;
        if (result.Columns.Count == 0 || result.Rows.Count == 0)
        {
            return check.Expect is null && check.ExpectRegex is null ? Part.Pass("query returned no rows") : Part.Fail("query returned no rows");
        }

        string? value = result.Rows[0][0];
        if (check.Expect is { } expected)
        {
            return value == expected
                ? Part.Pass($"query returned {Show(value)} as expected")
                : Part.Fail($"query returned {Show(value)}, expected {Show(expected)}");
        }

        if (check.ExpectRegex is { } pattern)
        {
            Regex regex = expectRegex ?? CompileExpectRegex(pattern);
            if (value is null)
            {
                return Part.Fail($"query returned NULL, expected a match of /{pattern}/");
            }

            try
            {
                return regex.IsMatch(value)
                    ? Part.Pass($"query returned {Show(value)}, matches /{pattern}/")
                    : Part.Fail($"query returned {Show(value)}, does not match /{pattern}/");
            }
            catch (RegexMatchTimeoutException)
            {
                return Part.Fail($"expect_regex /{pattern}/ took too long on {Show(value)}");
            }
        }

        return Part.Pass($"query returned {Show(value)}");
    }

    /// <summary>The regex for <c>expect_regex</c>; the match timeout keeps a pathological pattern from stalling
    /// the checker.</summary>
    public static Regex CompileExpectRegex(string pattern) =>
        new(pattern, RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));

    private static bool TryNameValues(MySqlQueryOutcome? outcome, out IReadOnlyDictionary<string, string?> values, out Part failure)
    {
        values = new Dictionary<string, string?>();
        failure = default;
        if (outcome is null)
        {
            failure = Part.Fail("the status query was not run");
            return false;
        }

        if (outcome.Error is { } error)
        {
            failure = Part.Failed(error, outcome.Statement);
            return false;
        }

        values = outcome.Result!.AsNameValues();
        return true;
    }

    /// <summary>MariaDB 10.5.9 split REPLICATION CLIENT: SHOW SLAVE STATUS now needs SLAVE MONITOR.</summary>
    private static string ReplicaPrivilege(string server) =>
        IsMariaDb(server) && VersionAtLeast(server, 10, 5, 9) ? "SLAVE MONITOR (MariaDB 10.5.9+; REPLICATION CLIENT before)" : "REPLICATION CLIENT";

    private static string First(MySqlResultSet result, string column, string alternative) =>
        result.TryGetFirst(column, out string? v) || result.TryGetFirst(alternative, out v) ? Show(v) : "unknown";

    private static bool? ParseOnOff(string? text) => text?.ToUpperInvariant() switch
    {
        "ON" or "1" or "YES" or "TRUE" => true,
        "OFF" or "0" or "NO" or "FALSE" => false,
        _ => null,
    };

    private static string OnOff(bool on) => on ? "ON" : "OFF";

    private static string StateName(int state) => state switch
    {
        1 => "Joining",
        2 => "Donor/Desynced",
        3 => "Joined",
        4 => "Synced",
        _ => "unknown",
    };

    private static string Show(string? value) => value switch
    {
        null => "NULL",
        { Length: > MaxShownValue } => $"'{value[..MaxShownValue]}…'",
        _ => $"'{value}'",
    };

    internal static bool VersionAtLeast(string version, int major, int minor, int patch)
    {
        string text = version.StartsWith("5.5.5-", StringComparison.Ordinal) ? version[6..] : version;
        int[] parts = [0, 0, 0];
        int index = 0;
        foreach (string piece in text.Split('.', 4))
        {
            if (index == 3)
            {
                break;
            }

            string digits = new([.. piece.TakeWhile(char.IsAsciiDigit)]);
            if (!int.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out parts[index]))
            {
                break;
            }

            index++;
        }

        return (parts[0], parts[1], parts[2]).CompareTo((major, minor, patch)) >= 0;
    }
}
