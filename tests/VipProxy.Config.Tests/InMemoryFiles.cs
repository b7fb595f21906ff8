using VipProxy.Config.Text;

namespace VipProxy.Config.Tests;

/// <summary>An in-memory file tree for include and glob tests.</summary>
internal sealed class InMemoryFiles(Dictionary<string, string> files) : IConfigFileSystem
{
    public string? TryReadAllText(string path, out string? failure)
    {
        failure = files.ContainsKey(Path.GetFullPath(path)) ? null : "no such file";
        return files.GetValueOrDefault(Path.GetFullPath(path));
    }

    public IReadOnlyList<string> ExpandGlob(string pattern)
    {
        string full = Path.GetFullPath(pattern);
        string directory = Path.GetDirectoryName(full)!;
        string name = Path.GetFileName(full);
        return files.Keys
            .Where(f => Path.GetDirectoryName(f) == directory && GlobPattern.IsMatch(name, Path.GetFileName(f)))
            .Order(StringComparer.Ordinal)
            .ToList();
    }

    public static InMemoryFiles Of(params (string Path, string Text)[] files) =>
        new(files.ToDictionary(f => Path.GetFullPath(f.Path), f => f.Text));
}
