namespace VipProxy.HealthChecks.Scripts;

/// <summary>
/// Gathers the stat facts that <see cref="ScriptSecurityRules"/> judges: every component of the script's path as
/// written, and of its canonical path when symbolic links lead elsewhere.
/// </summary>
internal static class ScriptFileInspector
{
    private const uint TypeMask = 0xF000, TypeDirectory = 0x4000, TypeRegular = 0x8000, TypeSymbolicLink = 0xA000;

    /// <summary>Finds a bare program name in PATH, as execvp would (keepalived does the same, with a warning).</summary>
    public static string? ResolveProgram(string program)
    {
        if (program.Contains('/', StringComparison.Ordinal))
        {
            return Path.GetFullPath(program, "/");
        }

        string path = Environment.GetEnvironmentVariable("PATH") ?? "/usr/local/bin:/usr/bin:/bin";
        foreach (string directory in path.Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            string candidate = Path.Combine(directory, program);
            if (File.Exists(candidate))
            {
                return Path.GetFullPath(candidate, "/");
            }
        }

        return null;
    }

    /// <summary>Judges an absolute program path for a script run as uid:gid.</summary>
    public static ScriptSecurityVerdict Check(string absolutePath, uint runUid, uint runGid)
    {
        string? realPath = NativeMethods.RealPath(absolutePath);
        if (realPath is null)
        {
            return new ScriptSecurityVerdict(false, $"'{absolutePath}' does not resolve to a file");
        }

        if (!TryGetEntry(realPath, out PathEntry target, out string? error))
        {
            return new ScriptSecurityVerdict(false, error ?? realPath);
        }

        if (!ScriptSecurityRules.NeedsProtection(runUid, runGid, target))
        {
            return ScriptSecurityVerdict.Secure;
        }

        foreach (string path in realPath == absolutePath ? [absolutePath] : new[] { absolutePath, realPath })
        {
            if (!TryGetChain(path, out List<PathEntry> chain, out string chainError))
            {
                return new ScriptSecurityVerdict(false, chainError);
            }

            ScriptSecurityVerdict verdict = ScriptSecurityRules.Evaluate(chain);
            if (!verdict.IsSecure)
            {
                return verdict;
            }
        }

        return ScriptSecurityVerdict.Secure;
    }

    private static bool TryGetChain(string absolutePath, out List<PathEntry> chain, out string error)
    {
        chain = [];
        var paths = new List<string> { "/" };
        foreach (string part in absolutePath.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            paths.Add(paths[^1] == "/" ? "/" + part : paths[^1] + "/" + part);
        }

        foreach (string path in paths)
        {
            if (!TryGetEntry(path, out PathEntry entry, out string? reason))
            {
                error = reason ?? path;
                return false;
            }

            chain.Add(entry);
        }

        error = string.Empty;
        return true;
    }

    private static bool TryGetEntry(string path, out PathEntry entry, out string? error)
    {
        if (!NativeMethods.TryGetFileFacts(path, out uint mode, out uint uid, out uint gid, out int errno))
        {
            entry = default;
            error = $"'{path}' cannot be examined (errno {errno})";
            return false;
        }

        PathEntryKind kind = (mode & TypeMask) switch
        {
            TypeDirectory => PathEntryKind.Directory,
            TypeRegular => PathEntryKind.RegularFile,
            TypeSymbolicLink => PathEntryKind.SymbolicLink,
            _ => PathEntryKind.Other,
        };
        entry = new PathEntry(path, kind, uid, gid, (UnixFileMode)(mode & 0xFFF));
        error = null;
        return true;
    }
}
