using System.Globalization;
using System.Text.RegularExpressions;

namespace VipProxy.Lab;

/// <summary>
/// The prefix every namespace, veth and bridge of one <see cref="Lan"/> carries: "vpt", the creating process's
/// pid, then two letters that tell apart the LANs of one process. The pid lets a sweep recognise the leftovers of a
/// crashed run without ever touching a LAN whose creator is still running.
/// </summary>
internal static partial class NamePrefix
{
    private const string Family = "vpt";
    private const int LettersCombinations = 26 * 26;
    private static int s_serial = Random.Shared.Next(LettersCombinations);

    /// <summary>The longest prefix (a 7-digit pid): leaves 3 characters of a 15-character interface name.</summary>
    public const int MaxLength = 12;

    public static string Create(int creatorPid)
    {
        var serial = Interlocked.Increment(ref s_serial) % LettersCombinations;
        return string.Create(
            CultureInfo.InvariantCulture, $"{Family}{creatorPid}{(char)('a' + (serial / 26))}{(char)('a' + (serial % 26))}");
    }

    /// <summary>The pid that created a namespace named by this family, or null for any other namespace.</summary>
    public static int? CreatorPid(string namespaceName)
    {
        var match = FamilyPattern().Match(namespaceName);
        return match.Success && int.TryParse(match.Groups["pid"].Value, CultureInfo.InvariantCulture, out var pid)
            ? pid
            : null;
    }

    [GeneratedRegex("^vpt(?<pid>[0-9]+)[a-z]{2}-")]
    private static partial Regex FamilyPattern();
}
