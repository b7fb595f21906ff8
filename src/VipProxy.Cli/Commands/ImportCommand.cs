using System.CommandLine;
using VipProxy.Config.Import;

namespace VipProxy.Cli.Commands;

/// <summary>
/// <c>vipproxy import haproxy FILE</c>: prints the keepalived-syntax virtual_server blocks equivalent to an
/// haproxy.cfg's TCP proxies, with every directive it could not map as a comment. Exit 0 when at least one
/// virtual server was produced, 1 otherwise.
/// </summary>
internal static class ImportCommand
{
    public static Command Create()
    {
        var file = new Argument<FileInfo>("file") { Description = "The haproxy.cfg to translate." };
        var haproxy = new Command("haproxy", "Translate an haproxy.cfg's mode tcp listen/frontend+backend sections into virtual_server blocks.") { file };
        haproxy.SetAction(result => Run(result.GetValue(file)!, Console.Out, Console.Error));
        return new Command("import", "Translate another balancer's configuration into VipProxy's.") { haproxy };
    }

    public static int Run(FileInfo file, TextWriter output, TextWriter errors)
    {
        string text;
        try
        {
            text = File.ReadAllText(file.FullName);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            errors.WriteLine($"vipproxy import haproxy: {file.FullName}: {e.Message}");
            return 1;
        }

        HaproxyImport imported = HaproxyImporter.Convert(text, file.Name);
        output.Write(imported.Text);
        errors.WriteLine($"{file.Name}: {imported.VirtualServers} virtual_server block(s), {imported.Unmapped} item(s) left as comments; check the result with 'vipproxy check -f FILE'");
        return imported.VirtualServers > 0 ? 0 : 1;
    }
}
