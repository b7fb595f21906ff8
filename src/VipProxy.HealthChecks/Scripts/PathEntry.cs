namespace VipProxy.HealthChecks.Scripts;

/// <summary>The type of a file system entry, as far as script security cares.</summary>
public enum PathEntryKind
{
    /// <summary>A directory.</summary>
    Directory,

    /// <summary>A regular file.</summary>
    RegularFile,

    /// <summary>A symbolic link (described itself, not its target).</summary>
    SymbolicLink,

    /// <summary>Anything else (device, socket, fifo).</summary>
    Other,
}

/// <summary>What <c>lstat</c> says about one component of a script's path.</summary>
/// <param name="Path">The path up to and including this component.</param>
/// <param name="Kind">Its type.</param>
/// <param name="OwnerUid">Owning user.</param>
/// <param name="OwnerGid">Owning group.</param>
/// <param name="Mode">Permission bits, with set-user-ID, set-group-ID and sticky.</param>
public readonly record struct PathEntry(string Path, PathEntryKind Kind, uint OwnerUid, uint OwnerGid, UnixFileMode Mode);
