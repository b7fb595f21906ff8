using System.Net;
using System.Text.Json;

namespace VipProxy.Lab;

/// <summary>Reads the JSON of `ip -j link` / `ip -j addr`: an array with one object per interface.</summary>
internal static class IpJson
{
    public static IReadOnlyList<InterfaceAddress> IPv4Addresses(string json)
    {
        using var document = JsonDocument.Parse(json);
        var addresses = new List<InterfaceAddress>();
        foreach (var link in document.RootElement.EnumerateArray())
        {
            if (!link.TryGetProperty("addr_info", out var addressInfo))
            {
                continue;
            }

            foreach (var entry in addressInfo.EnumerateArray())
            {
                if (entry.GetProperty("family").GetString() == "inet")
                {
                    addresses.Add(new InterfaceAddress(
                        IPAddress.Parse(entry.GetProperty("local").GetString()!),
                        entry.GetProperty("prefixlen").GetInt32(),
                        entry.TryGetProperty("label", out var label) ? label.GetString() : null));
                }
            }
        }

        return addresses;
    }

    public static string OperationalState(string json)
    {
        using var document = JsonDocument.Parse(json);
        return document.RootElement[0].GetProperty("operstate").GetString() ?? "UNKNOWN";
    }
}
