using System.Globalization;
using System.Net;
using System.Net.Sockets;
using VipProxy.Config.Diagnostics;
using VipProxy.Config.Model;
using VipProxy.Config.Syntax;

namespace VipProxy.Config.Binding;

/// <summary>
/// Reads typed values out of statements and reports every malformed one with its location.
/// Each reader returns false after reporting, so binders simply skip the value and carry on.
/// </summary>
internal sealed class BindContext(DiagnosticBag diagnostics)
{
    public DiagnosticBag Diagnostics { get; } = diagnostics;

    /// <summary>Every block kind, so that a keyword used in the wrong block can say where it belongs.</summary>
    public IReadOnlyList<IKeywordTable> AllTables { get; init; } = [];

    public void Error(SourceLocation at, string message) => Diagnostics.Error(at, message);

    /// <summary>
    /// Explains a keyword that the block does not accept. A keepalived keyword says so ("keepalived keyword 'x' is
    /// not supported by VipProxy: why"), a harmless one is a warning, a VipProxy keyword of another block says where
    /// it belongs; only a word keepalived does not know either gets "unknown keyword", with a likely correction.
    /// </summary>
    public void ReportUnknown(Statement statement, IKeywordTable table)
    {
        string name = statement.Name;
        string block = table.BlockName;
        if (UnsupportedKeywords.Ignored.TryGetValue(name, out string? ignored) && (KeepalivedKeywords.Has(block, name) || !KeepalivedKeywords.IsKeyword(name)))
        {
            Warning(statement.Location, $"'{name}' has no effect in VipProxy and is ignored: {ignored}");
            return;
        }

        var homes = AllTables.Where(t => t != table && t.Keywords.Contains(name, StringComparer.Ordinal)).Select(t => t.BlockName).Distinct().ToList();
        string? why = UnsupportedKeywords.Reason(block, name);
        if (KeepalivedKeywords.Has(block, name))
        {
            string message = $"keepalived keyword '{name}' is not supported by VipProxy: {why ?? $"VipProxy does not implement it in {block}; remove the line"}";
            if (homes.Count > 0)
            {
                message += $" (VipProxy accepts '{name}' in {string.Join(" or ", homes)})";
            }

            Error(statement.Location, message);
            return;
        }

        if (homes.Count > 0)
        {
            Error(statement.Location, $"'{name}' does not belong in {block}; it is a keyword of {string.Join(" or ", homes)}");
            return;
        }

        if (why is not null)
        {
            Error(statement.Location, $"keepalived keyword '{name}' is not supported by VipProxy: {why}");
            return;
        }

        var keepalivedHomes = KeepalivedKeywords.BlocksOf(name).ToList();
        if (keepalivedHomes.Count > 0)
        {
            string where = keepalivedHomes.Count <= 3 ? string.Join(" or ", keepalivedHomes) : $"{string.Join(", ", keepalivedHomes.Take(3))} and other blocks";
            Error(statement.Location, $"keepalived keyword '{name}' is not supported by VipProxy, and in keepalived it belongs in {where}, not in {block}");
            return;
        }

        string? next = statement.Arguments.Count > 0 ? statement.Arguments[0].Text : null;
        string? suggestion = KeywordSuggester.Suggest(name, next, table.Keywords);
        string unknown = $"unknown keyword '{name}' in {block}";
        if (suggestion is not null)
        {
            unknown += $"; did you mean '{suggestion}'?";
        }

        if (statement.Block is not null)
        {
            unknown += " (its whole block is skipped)";
        }

        Error(statement.Location, unknown);
    }

    /// <summary>
    /// A keepalived flag with its optional value: nothing or yes|on|true switch it on, no|off|false off. keepalived
    /// 2.2.7 reads the value of only some flags (<see cref="KeepalivedKeywords.FlagsWithBoolean"/>) and switches the
    /// others on whatever follows them, so "no" after one of those is refused rather than read the other way.
    /// </summary>
    public bool Flag(Statement statement, string block, out bool on)
    {
        on = true;
        if (!Arguments(statement, 0, 1, $"{statement.Name} [yes|no]") || statement.Arguments.Count == 0)
        {
            return statement.Arguments.Count == 0;
        }

        Token value = statement.Arguments[0];
        switch (value.Text)
        {
            case "yes" or "on" or "true":
                return true;
            case "no" or "off" or "false":
                on = false;
                break;
            default:
                Error(value.Location, $"'{statement.Name}' takes no value or one of yes, no, on, off, true, false (lower case, as keepalived), not '{value.Text}'");
                return false;
        }

        if (KeepalivedKeywords.Has(block, statement.Name) && !KeepalivedKeywords.FlagsWithBoolean.Contains($"{block}/{statement.Name}"))
        {
            Error(value.Location, $"'{statement.Name} {value.Text}' is read the other way by keepalived 2.2.7, which ignores any value after '{statement.Name}' and switches it on; remove the line to leave '{statement.Name}' off");
            return false;
        }

        return true;
    }

    public void Warning(SourceLocation at, string message) => Diagnostics.Warning(at, message);

    /// <summary>Checks the number of arguments: too few points at the end of the line, too many at the first extra one.</summary>
    public bool Arguments(Statement statement, int min, int max, string usage)
    {
        int count = statement.Arguments.Count;
        if (count < min)
        {
            Error(statement.EndLocation, $"'{statement.Name}' is missing its value: write '{usage}'");
            return false;
        }

        if (count > max)
        {
            Token extra = statement.Arguments[max];
            Error(extra.Location, max == 0
                ? $"'{statement.Name}' takes no value, but '{extra.Text}' follows it"
                : $"unexpected '{extra.Text}' after '{statement.Name}': write '{usage}'");
            return false;
        }

        return true;
    }

    public bool Integer(Token token, string keyword, long min, long max, out int value)
    {
        value = 0;
        if (!long.TryParse(token.Text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long parsed))
        {
            Error(token.Location, $"'{keyword}' expects a whole number from {min} to {max}, not '{token.Text}'");
            return false;
        }

        if (parsed < min || parsed > max)
        {
            Error(token.Location, $"'{keyword}' {parsed} is out of range: it must be from {min} to {max}");
            return false;
        }

        value = (int)parsed;
        return true;
    }

    /// <summary>A number of seconds, fractions allowed (keepalived reads timers as doubles).</summary>
    public bool Seconds(Token token, string keyword, double min, double max, out TimeSpan value)
    {
        value = TimeSpan.Zero;
        if (!double.TryParse(token.Text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double seconds)
            || double.IsNaN(seconds))
        {
            Error(token.Location, $"'{keyword}' expects a number of seconds from {Format(min)} to {Format(max)}, not '{token.Text}'");
            return false;
        }

        if (seconds < min || seconds > max)
        {
            Error(token.Location, $"'{keyword}' {token.Text} is out of range: it must be from {Format(min)} to {Format(max)} seconds");
            return false;
        }

        value = TimeSpan.FromMicroseconds(Math.Round(seconds * 1_000_000));
        return true;
    }

    public bool IPv4(Token token, string what, out IPAddress address)
    {
        if (IPAddress.TryParse(token.Text, out IPAddress? parsed) && parsed.AddressFamily == AddressFamily.InterNetwork
            && token.Text.Count(c => c == '.') == 3)
        {
            address = parsed;
            return true;
        }

        address = IPAddress.None;
        if (parsed is { AddressFamily: AddressFamily.InterNetworkV6 })
        {
            Error(token.Location, $"{what} '{token.Text}' is IPv6: VipProxy supports IPv4 only");
        }
        else
        {
            Error(token.Location, $"{what} '{token.Text}' is not an IPv4 address");
        }

        return false;
    }

    public bool Port(Token token, string keyword, out int port) => Integer(token, keyword, 1, 65535, out port);

    /// <summary>Reads <c>IP PORT</c> at <paramref name="index"/>.</summary>
    public bool Endpoint(Statement statement, int index, out IPEndPoint endpoint)
    {
        endpoint = new IPEndPoint(IPAddress.None, 0);
        bool ok = IPv4(statement.Arguments[index], $"'{statement.Name}' address", out IPAddress address);
        ok &= Port(statement.Arguments[index + 1], $"{statement.Name} port", out int port);
        if (ok)
        {
            endpoint = new IPEndPoint(address, port);
        }

        return ok;
    }

    /// <summary>Matches a word against a fixed set of choices (case-insensitive, as keepalived).</summary>
    public bool Choice<T>(Token token, string keyword, IReadOnlyDictionary<string, T> choices, out T value)
    {
        foreach ((string name, T choice) in choices)
        {
            if (string.Equals(name, token.Text, StringComparison.OrdinalIgnoreCase))
            {
                value = choice;
                return true;
            }
        }

        value = default!;
        Error(token.Location, $"'{keyword}' expects one of {string.Join(", ", choices.Keys)}, not '{token.Text}'");
        return false;
    }

    /// <summary>
    /// A command line for <c>script</c>, <c>notify*</c>, <c>misc_path</c>: the quoted value, or the words of the
    /// rest of the line, split with shell-like quoting.
    /// </summary>
    public bool Script(Statement statement, out ScriptCommand? command)
    {
        command = null;
        if (!Arguments(statement, 1, int.MaxValue, $"{statement.Name} \"/path/to/program ARGS\""))
        {
            return false;
        }

        string text = statement.Arguments.Count == 1
            ? statement.Arguments[0].Text
            : string.Join(' ', statement.Arguments.Select(a => a.Kind == TokenKind.QuotedString ? $"\"{a.Text}\"" : a.Text));
        if (!ShellWords.TrySplit(text, out List<string> words, out string? problem))
        {
            Error(statement.Arguments[0].Location, $"cannot read the command of '{statement.Name}': {problem}");
            return false;
        }

        if (words.Count == 0)
        {
            Error(statement.Arguments[0].Location, $"'{statement.Name}' names no program");
            return false;
        }

        command = new ScriptCommand(text, new ValueList<string>(words));
        return true;
    }

    /// <summary><c>USER [GROUP]</c> of <c>user</c> and <c>script_user</c>.</summary>
    public bool Account(Statement statement, out ScriptAccount? account)
    {
        account = null;
        if (!Arguments(statement, 1, 2, $"{statement.Name} USER [GROUP]"))
        {
            return false;
        }

        account = new ScriptAccount(statement.Arguments[0].Text, statement.Arguments.Count > 1 ? statement.Arguments[1].Text : null);
        return true;
    }

    public static string Format(double seconds) => seconds.ToString("0.###", CultureInfo.InvariantCulture);
}
