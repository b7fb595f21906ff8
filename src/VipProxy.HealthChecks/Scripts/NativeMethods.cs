using System.Runtime.InteropServices;

namespace VipProxy.HealthChecks.Scripts;

/// <summary>
/// The few libc calls .NET has no API for: a file's owner (statx), the canonical path (realpath) and account
/// lookups through NSS (getpwnam/getgrnam). Source-generated marshalling, so AOT-safe.
/// </summary>
internal static partial class NativeMethods
{
    private const int AtFdCwd = -100;
    private const int AtSymlinkNoFollow = 0x100;
    private const uint StatxType = 0x1, StatxMode = 0x2, StatxUid = 0x8, StatxGid = 0x10;

    // getpwnam/getgrnam return pointers to static storage: one caller at a time.
    private static readonly Lock AccountLookupGate = new();

    /// <summary>lstat-like facts about a path (a symbolic link itself is described, not its target).</summary>
    /// <returns>False when the path cannot be examined (errno in <paramref name="error"/>).</returns>
    public static bool TryGetFileFacts(string path, out uint mode, out uint uid, out uint gid, out int error)
    {
        int result = Statx(AtFdCwd, path, AtSymlinkNoFollow, StatxType | StatxMode | StatxUid | StatxGid, out StatxBuffer buffer);
        error = result == 0 ? 0 : Marshal.GetLastPInvokeError();
        mode = buffer.Mode;
        uid = buffer.Uid;
        gid = buffer.Gid;
        return result == 0;
    }

    /// <summary>The canonical absolute path with every symbolic link resolved; null when it does not resolve.</summary>
    public static string? RealPath(string path)
    {
        nint resolved = RealPathNative(path, 0);
        if (resolved == 0)
        {
            return null;
        }

        try
        {
            return Marshal.PtrToStringUTF8(resolved);
        }
        finally
        {
            Free(resolved);
        }
    }

    /// <summary>Looks up a user: uid and primary gid, through NSS like every other tool.</summary>
    public static bool TryGetUser(string name, out uint uid, out uint gid)
    {
        lock (AccountLookupGate)
        {
            // struct passwd { char *pw_name; char *pw_passwd; uid_t pw_uid; gid_t pw_gid; … }
            nint entry = GetPwNam(name);
            uid = entry == 0 ? 0 : (uint)Marshal.ReadInt32(entry, 2 * IntPtr.Size);
            gid = entry == 0 ? 0 : (uint)Marshal.ReadInt32(entry, (2 * IntPtr.Size) + 4);
            return entry != 0;
        }
    }

    /// <summary>Looks up a group's gid.</summary>
    public static bool TryGetGroup(string name, out uint gid)
    {
        lock (AccountLookupGate)
        {
            // struct group { char *gr_name; char *gr_passwd; gid_t gr_gid; char **gr_mem; }
            nint entry = GetGrNam(name);
            gid = entry == 0 ? 0 : (uint)Marshal.ReadInt32(entry, 2 * IntPtr.Size);
            return entry != 0;
        }
    }

    public static uint EffectiveUserId() => GetEUid();

    public static uint EffectiveGroupId() => GetEGid();

    [LibraryImport("libc", EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Statx(int dirFd, string path, int flags, uint mask, out StatxBuffer buffer);

    [LibraryImport("libc", EntryPoint = "realpath", StringMarshalling = StringMarshalling.Utf8)]
    private static partial nint RealPathNative(string path, nint resolved);

    [LibraryImport("libc", EntryPoint = "free")]
    private static partial void Free(nint pointer);

    [LibraryImport("libc", EntryPoint = "getpwnam", StringMarshalling = StringMarshalling.Utf8)]
    private static partial nint GetPwNam(string name);

    [LibraryImport("libc", EntryPoint = "getgrnam", StringMarshalling = StringMarshalling.Utf8)]
    private static partial nint GetGrNam(string name);

    [LibraryImport("libc", EntryPoint = "geteuid")]
    private static partial uint GetEUid();

    [LibraryImport("libc", EntryPoint = "getegid")]
    private static partial uint GetEGid();

    /// <summary>The start of <c>struct statx</c>, whose layout is the same on every architecture (256 bytes).</summary>
    [StructLayout(LayoutKind.Explicit, Size = 256)]
    private struct StatxBuffer
    {
        [FieldOffset(20)] public uint Uid;
        [FieldOffset(24)] public uint Gid;
        [FieldOffset(28)] public ushort Mode;
    }
}
