namespace VipProxy.HealthChecks.Scripts;

/// <summary>The verdict on a script's path.</summary>
/// <param name="IsSecure">True when no user other than root could change what runs.</param>
/// <param name="Reason">Why not, naming the weak path component; empty when secure.</param>
public sealed record ScriptSecurityVerdict(bool IsSecure, string Reason)
{
    /// <summary>Nothing to object to.</summary>
    public static ScriptSecurityVerdict Secure { get; } = new(true, string.Empty);
}

/// <summary>
/// keepalived's <c>enable_script_security</c> rules (check_security in notify.c), as pure functions over stat facts.
/// </summary>
/// <remarks>
/// A script that runs with root's privileges must not be modifiable by anyone else. Walking from <c>/</c> to the
/// script, every component is weak when it is owned by a user other than root, or when it is a regular file or a
/// directory without the sticky bit (so not <c>/tmp</c>) that is writable by others, or by a group other than
/// root's. Every component but the last must be a directory or a symbolic link, the last a regular file or a
/// symbolic link; a link is judged by its owner only (its mode means nothing) and its target is checked as a second
/// chain, the canonical path. Links in the middle are the norm: on merged-/usr systems (Debian 12) /bin and /sbin
/// are links to /usr/bin and /usr/sbin. Scripts that run as an unprivileged user need no protection: they can do
/// no more than that user could anyway.
/// </remarks>
public static class ScriptSecurityRules
{
    /// <summary>True when running the file as <paramref name="runUid"/>:<paramref name="runGid"/> gives root's
    /// privileges: it runs as root (user or group), or it is set-user-ID root or set-group-ID root.</summary>
    public static bool NeedsProtection(uint runUid, uint runGid, PathEntry file) =>
        runUid == 0
        || runGid == 0
        || (file.OwnerUid == 0 && file.Mode.HasFlag(UnixFileMode.UserExecute) && file.Mode.HasFlag(UnixFileMode.SetUser))
        || (file.OwnerGid == 0 && file.Mode.HasFlag(UnixFileMode.GroupExecute) && file.Mode.HasFlag(UnixFileMode.SetGroup));

    /// <summary>Judges a chain of path components from <c>/</c> to the script.</summary>
    public static ScriptSecurityVerdict Evaluate(IReadOnlyList<PathEntry> chain)
    {
        ArgumentNullException.ThrowIfNull(chain);
        if (chain.Count == 0)
        {
            return new ScriptSecurityVerdict(false, "empty path");
        }

        for (int i = 0; i < chain.Count; i++)
        {
            PathEntry entry = chain[i];
            bool isLast = i == chain.Count - 1;
            if (!isLast && entry.Kind is not (PathEntryKind.Directory or PathEntryKind.SymbolicLink))
            {
                return new ScriptSecurityVerdict(false, $"'{entry.Path}' in the script's path is not a directory");
            }

            if (isLast && entry.Kind is not (PathEntryKind.RegularFile or PathEntryKind.SymbolicLink))
            {
                return new ScriptSecurityVerdict(false, $"'{entry.Path}' is not a regular file");
            }

            string? weakness = Weakness(entry);
            if (weakness is not null)
            {
                return new ScriptSecurityVerdict(false, $"'{entry.Path}' {weakness}");
            }
        }

        return ScriptSecurityVerdict.Secure;
    }

    private static string? Weakness(PathEntry entry)
    {
        if (entry.OwnerUid != 0)
        {
            return $"is owned by uid {entry.OwnerUid}, not root";
        }

        bool writeMatters = entry.Kind == PathEntryKind.RegularFile
            || (entry.Kind == PathEntryKind.Directory && !entry.Mode.HasFlag(UnixFileMode.StickyBit));
        if (!writeMatters)
        {
            return null;
        }

        if (entry.Mode.HasFlag(UnixFileMode.OtherWrite))
        {
            return "is writable by every user";
        }

        return entry.OwnerGid != 0 && entry.Mode.HasFlag(UnixFileMode.GroupWrite)
            ? $"is writable by group {entry.OwnerGid}"
            : null;
    }
}
