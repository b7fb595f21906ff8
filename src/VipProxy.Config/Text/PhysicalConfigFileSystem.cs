namespace VipProxy.Config.Text;

/// <summary>The real file system, for <c>vipproxy check</c> and <c>vipproxy run</c>.</summary>
public sealed class PhysicalConfigFileSystem : IConfigFileSystem
{
    public static PhysicalConfigFileSystem Instance { get; } = new();

    public string? TryReadAllText(string path, out string? failure)
    {
        try
        {
            failure = null;
            return File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            failure = e is FileNotFoundException or DirectoryNotFoundException ? "no such file" : e.Message;
            return null;
        }
    }

    public IReadOnlyList<string> ExpandGlob(string pattern)
    {
        string full = Path.GetFullPath(pattern);
        string root = Path.GetPathRoot(full) ?? "/";
        var segments = full[root.Length..].Split('/', StringSplitOptions.RemoveEmptyEntries);
        var matches = new List<string>();
        Expand(root, segments, 0, matches);
        matches.Sort(StringComparer.Ordinal);
        return matches;
    }

    private static void Expand(string directory, string[] segments, int index, List<string> matches)
    {
        if (index == segments.Length)
        {
            if (File.Exists(directory))
            {
                matches.Add(directory);
            }

            return;
        }

        string segment = segments[index];
        if (!GlobPattern.HasWildcards(segment))
        {
            Expand(Path.Combine(directory, segment), segments, index + 1, matches);
            return;
        }

        if (!Directory.Exists(directory))
        {
            return;
        }

        IEnumerable<string> entries;
        try
        {
            entries = Directory.EnumerateFileSystemEntries(directory);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return;
        }

        foreach (string entry in entries)
        {
            string name = Path.GetFileName(entry);
            // As glob(3): a wildcard does not match a leading dot.
            if (name.StartsWith('.') && !segment.StartsWith('.'))
            {
                continue;
            }

            if (GlobPattern.IsMatch(segment, name))
            {
                Expand(entry, segments, index + 1, matches);
            }
        }
    }
}
