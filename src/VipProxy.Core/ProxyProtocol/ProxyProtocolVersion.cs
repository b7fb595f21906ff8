namespace VipProxy.Core.ProxyProtocol;

/// <summary>Which PROXY protocol header (haproxy.org/download/2.6/doc/proxy-protocol.txt) a real server expects.</summary>
public enum ProxyProtocolVersion
{
    /// <summary>No header: the real server sees the forwarder's address.</summary>
    None = 0,
    /// <summary>Version 1, the human-readable line <c>PROXY TCP4 src dst sport dport\r\n</c>.</summary>
    V1 = 1,
    /// <summary>Version 2, the binary header with the 12-byte signature.</summary>
    V2 = 2,
}
