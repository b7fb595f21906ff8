namespace VipProxy.Config.Tests;

internal static class RepositoryFiles
{
    /// <summary>The checkout's root: the directory holding VipProxy.sln above the test binaries.</summary>
    public static string Root { get; } = FindRoot();

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
