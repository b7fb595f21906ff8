using System.Net;
using System.Text;
using VipProxy.Core.ProxyProtocol;

namespace VipProxy.Core.Tests.ProxyProtocol;

/// <summary>Byte-exact headers, checked against the facts of haproxy's proxy-protocol.txt.</summary>
public class ProxyProtocolHeaderTests
{
    private static byte[] Encode(ProxyProtocolVersion version, string source, string destination)
    {
        Span<byte> buffer = stackalloc byte[ProxyProtocolHeader.MaxLength];
        int length = ProxyProtocolHeader.Write(buffer, version, IPEndPoint.Parse(source), IPEndPoint.Parse(destination));
        return buffer[..length].ToArray();
    }

    private static string Text(byte[] header) => Encoding.ASCII.GetString(header);

    [Fact]
    public void V1_tcp4_is_the_spec_line()
    {
        Assert.Equal("PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n",
            Text(Encode(ProxyProtocolVersion.V1, "192.168.0.1:56324", "192.168.0.11:443")));
    }

    [Fact]
    public void V1_tcp4_longest_line_is_56_bytes_as_the_spec_says()
    {
        byte[] header = Encode(ProxyProtocolVersion.V1, "255.255.255.255:65535", "255.255.255.255:65535");
        Assert.Equal("PROXY TCP4 255.255.255.255 255.255.255.255 65535 65535\r\n", Text(header));
        Assert.Equal(56, header.Length);
    }

    [Fact]
    public void V1_tcp6_longest_line_is_104_bytes_as_the_spec_says()
    {
        const string all = "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff";
        byte[] header = Encode(ProxyProtocolVersion.V1, $"[{all}]:65535", $"[{all}]:65535");
        Assert.Equal($"PROXY TCP6 {all} {all} 65535 65535\r\n", Text(header));
        Assert.Equal(104, header.Length);
    }

    [Fact]
    public void V1_tcp6_uses_the_compressed_form_and_drops_the_scope()
    {
        Assert.Equal("PROXY TCP6 2001:db8::1 fe80::2 40000 3306\r\n",
            Text(Encode(ProxyProtocolVersion.V1, "[2001:db8::1]:40000", "[fe80::2%3]:3306")));
    }

    [Fact]
    public void V1_ipv4_mapped_addresses_of_a_dual_stack_listener_are_written_as_tcp4()
    {
        Assert.Equal("PROXY TCP4 198.18.0.10 198.18.0.100 1234 80\r\n",
            Text(Encode(ProxyProtocolVersion.V1, "[::ffff:198.18.0.10]:1234", "[::ffff:198.18.0.100]:80")));
    }

    [Fact]
    public void V1_mixed_families_are_both_written_as_tcp6()
    {
        Assert.Equal("PROXY TCP6 ::ffff:198.18.0.10 2001:db8::100 1234 80\r\n",
            Text(Encode(ProxyProtocolVersion.V1, "198.18.0.10:1234", "[2001:db8::100]:80")));
    }

    [Fact]
    public void V2_tcp4_matches_a_header_captured_from_haproxy()
    {
        // haproxy send-proxy-v2 for 172.19.0.1:42578 -> 172.19.0.3:80, as captured on the wire.
        byte[] expected = Convert.FromHexString("0D0A0D0A000D0A515549540A" + "21" + "11" + "000C" + "AC130001" + "AC130003" + "A652" + "0050");
        Assert.Equal(expected, Encode(ProxyProtocolVersion.V2, "172.19.0.1:42578", "172.19.0.3:80"));
    }

    [Fact]
    public void V2_starts_with_the_12_byte_signature_then_version_2_proxy_command()
    {
        byte[] header = Encode(ProxyProtocolVersion.V2, "198.18.0.10:1", "198.18.0.100:2");
        Assert.Equal(new byte[] { 0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A }, header[..12]);
        Assert.Equal(0x21, header[12]);
        Assert.Equal(16 + 12, header.Length);
    }

    [Fact]
    public void V2_tcp6_has_family_0x21_and_36_address_bytes()
    {
        byte[] header = Encode(ProxyProtocolVersion.V2, "[2001:db8::1]:40000", "[2001:db8::2]:3306");
        byte[] expected = Convert.FromHexString(
            "0D0A0D0A000D0A515549540A" + "21" + "21" + "0024"
            + "20010DB8000000000000000000000001"
            + "20010DB8000000000000000000000002"
            + "9C40" + "0CEA");
        Assert.Equal(expected, header);
        Assert.Equal(52, header.Length);
    }

    [Fact]
    public void V2_ipv4_mapped_addresses_are_written_as_tcp4()
    {
        byte[] header = Encode(ProxyProtocolVersion.V2, "[::ffff:198.18.0.10]:1234", "[::ffff:198.18.0.100]:80");
        Assert.Equal(Convert.FromHexString("0D0A0D0A000D0A515549540A" + "2111000C" + "C612000A" + "C6120064" + "04D2" + "0050"), header);
    }

    [Fact]
    public void No_header_for_version_none()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Encode(ProxyProtocolVersion.None, "198.18.0.10:1", "198.18.0.100:2"));
    }

    [Fact]
    public void A_short_buffer_is_refused_rather_than_a_header_cut_short()
    {
        var source = IPEndPoint.Parse("198.18.0.10:1");
        var destination = IPEndPoint.Parse("198.18.0.100:2");
        Assert.Throws<ArgumentException>(() => ProxyProtocolHeader.Write(new byte[20], ProxyProtocolVersion.V1, source, destination));
        Assert.Throws<ArgumentException>(() => ProxyProtocolHeader.Write(new byte[27], ProxyProtocolVersion.V2, source, destination));
    }
}
