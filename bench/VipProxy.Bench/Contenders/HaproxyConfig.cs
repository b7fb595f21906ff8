using System.Globalization;
using System.Net;
using System.Text;
using VipProxy.Bench.Infrastructure;

namespace VipProxy.Bench.Contenders;

/// <summary>
/// The HAProxy 2.6 configuration both HAProxy contenders and the keepalived + HAProxy failover pair use: plain
/// `mode tcp`, one thread (`nbthread 1`) or HAProxy's default of one thread per CPU, one `listen` per forwarded
/// port, no health checks (VipProxy's bench config has none either).
/// </summary>
internal static class HaproxyConfig
{
    /// <summary>
    /// Kernel pipes HAProxy may hold for splicing. Without the keyword it reserves maxconn / 4, whose fds would
    /// push it over the limit; a thousand is far more than the workloads' few dozen concurrent streams need.
    /// </summary>
    public const int MaxPipes = 1000;

    /// <param name="transparent">
    /// `bind … transparent` lets the failover pair's backup listen on the VIP before it holds it.
    /// </param>
    public static string Render(IPAddress listen, IPAddress backend, IEnumerable<Service> services, int maxConnections,
        bool splice, bool transparent, bool oneThread = true)
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"""
            global
            {(oneThread ? "    nbthread 1\n" : "")}    maxconn {maxConnections}
                maxpipes {MaxPipes}

            defaults
                mode tcp
                maxconn {maxConnections}
                timeout connect 5s
                timeout client 10m
                timeout server 10m

            """);
        if (splice)
        {
            // Lets HAProxy move data between the two sockets through a kernel pipe when it judges it worthwhile.
            text.AppendLine("    option splice-auto");
        }

        foreach (var service in services)
        {
            var port = ServicePorts.Of(service);
            text.Append(CultureInfo.InvariantCulture, $"""

                listen {service.ToString().ToLowerInvariant()}
                    bind {listen}:{port}{(transparent ? " transparent" : "")}
                    server rs1 {backend}:{port}

                """);
        }

        return text.ToString();
    }
}
