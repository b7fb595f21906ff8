namespace VipProxy.Bench.Infrastructure;

/// <summary>A backend service on the real server; every proxy forwards the same port number to it.</summary>
internal enum Service
{
    /// <summary>nginx serving a small static file: request/response and connection-rate workloads.</summary>
    Http,

    /// <summary>iperf3 server: bulk throughput.</summary>
    Bulk,

    /// <summary>MariaDB on 8066, MyCat's port, the port VipProxy is put in front of.</summary>
    Mysql,
}

internal static class ServicePorts
{
    public const int Http = 80;
    public const int Bulk = 5201;
    public const int Mysql = 8066;

    public const string HttpPath = "/index.html";

    public static int Of(Service service) => service switch
    {
        Service.Http => Http,
        Service.Bulk => Bulk,
        Service.Mysql => Mysql,
        _ => throw new ArgumentOutOfRangeException(nameof(service), service, null),
    };
}
