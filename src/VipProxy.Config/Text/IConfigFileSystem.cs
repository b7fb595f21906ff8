namespace VipProxy.Config.Text;

/// <summary>
/// The only way the parser reaches files, so that includes and globs can be tested on in-memory trees.
/// </summary>
public interface IConfigFileSystem
{
    /// <summary>Returns the text of <paramref name="path"/>, or null when it does not exist or cannot be read.</summary>
    string? TryReadAllText(string path, out string? failure);

    /// <summary>Expands a glob (<c>*</c>, <c>?</c>, <c>[...]</c> in the last path segment) to existing files, sorted.</summary>
    IReadOnlyList<string> ExpandGlob(string pattern);
}
