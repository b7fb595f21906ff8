using VipProxy.Config.Model;

namespace VipProxy.Config.Tests;

internal static class ConfigAssert
{
    public const string ConfigPath = "/etc/vipproxy/test.conf";

    /// <summary>A minimal valid instance and virtual server, to embed snippets into.</summary>
    public const string MinimalInstance = """
        vrrp_instance VI_1 {
            interface eth0
            virtual_router_id 51
            virtual_ipaddress {
                198.18.0.100
            }
        }
        """;

    public static ConfigLoadResult Load(string text, string? nodeId = null, InMemoryFiles? files = null) =>
        ConfigLoader.LoadText(ConfigPath, text, new ConfigLoadOptions(nodeId), files);

    public static KeepalivedConfig Valid(string text, string? nodeId = null, InMemoryFiles? files = null)
    {
        ConfigLoadResult result = Load(text, nodeId, files);
        Assert.True(result.Config is not null, "expected a valid file, got:\n" + string.Join('\n', result.Diagnostics));
        return result.Config!;
    }

    /// <summary>Asserts the file is refused and returns its errors as printed.</summary>
    public static List<string> Errors(string text, string? nodeId = null, InMemoryFiles? files = null)
    {
        ConfigLoadResult result = Load(text, nodeId, files);
        Assert.True(result.Config is null, "expected errors, but the file was accepted");
        return result.Errors.Select(e => e.ToString()).ToList();
    }

    public static List<string> Warnings(string text)
    {
        ConfigLoadResult result = Load(text);
        Assert.True(result.Config is not null, "expected a valid file, got:\n" + string.Join('\n', result.Diagnostics));
        return result.Warnings.Select(e => e.ToString()).ToList();
    }

    public static string SingleError(string text)
    {
        List<string> errors = Errors(text);
        Assert.True(errors.Count == 1, "expected exactly one error, got:\n" + string.Join('\n', errors));
        return errors[0];
    }

    public static VrrpInstance Instance(string body) =>
        Valid($"vrrp_instance VI_1 {{\n interface eth0\n virtual_router_id 51\n virtual_ipaddress {{\n  198.18.0.100\n }}\n{body}\n}}\n").VrrpInstances.Single();

    public static VirtualServer VirtualServer(string body) =>
        Valid($"virtual_server 198.18.0.100 8066 {{\n protocol TCP\n{body}\n}}\n").VirtualServers.Single();

    public static RealServer RealServer(string body) =>
        VirtualServer($"real_server 198.18.1.1 3306 {{\n{body}\n}}").RealServers.Single();
}
