namespace VipProxy.Testing;

/// <summary>Files of the checkout the tests run from (shipped configurations, scripts).</summary>
public static class RepositoryFiles
{
    /// <summary>The checkout's root: the directory holding VipProxy.sln above the test binaries.</summary>
    public static string Root { get; } = FindRoot();

    /// <summary>The absolute path of <paramref name="relative"/> (relative to the checkout's root).</summary>
    public static string Path(string relative) => System.IO.Path.Combine(Root, relative);

    private static string FindRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(directory.FullName, "VipProxy.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException("VipProxy.sln not found above " + AppContext.BaseDirectory);
    }
}
