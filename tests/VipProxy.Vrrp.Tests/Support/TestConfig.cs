using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using VipProxy.Config;
using VipProxy.Config.Model;

namespace VipProxy.Vrrp.Tests.Support;

internal static class TestConfig
{
    public static KeepalivedConfig Parse(string text)
    {
        var result = ConfigLoader.LoadText("/test/keepalived.conf", text);
        Assert.False(result.HasErrors, string.Join("\n", result.Errors));
        return result.Config!;
    }

    /// <summary>One instance on eth0; <paramref name="extra"/> goes inside the vrrp_instance block.</summary>
    public static KeepalivedConfig Instance(string extra = "", string name = "VI_1", int priority = 100, string outside = "") => Parse($$"""
        {{outside}}
        vrrp_instance {{name}} {
            interface eth0
            virtual_router_id 51
            priority {{priority}}
            advert_int 1
            virtual_ipaddress {
                198.18.0.100/24 label eth0:vip
            }
            {{extra}}
        }
        """);

    public static ILoggerFactory Logs => NullLoggerFactory.Instance;

    /// <summary>How often the VRRP tests poll an <see cref="Eventually"/> condition: the background loops run on the
    /// thread pool and react within milliseconds.</summary>
    public static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(5);
}
