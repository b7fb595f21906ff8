using System.Security.Cryptography;
using System.Text;
using VipProxy.HealthChecks.Probes.MySql;

namespace VipProxy.HealthChecks.Tests.MySql;

public sealed class MySqlAuthenticationTests
{
    private static readonly byte[] Scramble = [.. Enumerable.Range(1, 20).Select(i => (byte)i)];

    // Computed independently with Python's hashlib for password "s3cret-Pw" and scramble 01 02 … 14:
    //   native: sha1(p) XOR sha1(scramble + sha1(sha1(p)))
    //   sha2:   sha256(p) XOR sha256(sha256(sha256(p)) + scramble)
    private const string NativeVector = "c74ed4517133a44c3dc01a386280abfe5af49171";
    private const string CachingSha2Vector = "e342e270242729b005da31d56d2f87c7d3827435e3ff6639a6e815b78064b0d4";

    [Fact]
    public void Native_password_proof_matches_the_reference_vector() =>
        Assert.Equal(NativeVector, Convert.ToHexStringLower(MySqlAuthentication.NativePasswordProof("s3cret-Pw", Scramble)));

    [Fact]
    public void Caching_sha2_proof_matches_the_reference_vector() =>
        Assert.Equal(CachingSha2Vector, Convert.ToHexStringLower(MySqlAuthentication.CachingSha2Proof("s3cret-Pw", Scramble)));

    [Fact]
    public void A_trailing_nul_after_the_scramble_is_ignored() =>
        Assert.Equal(NativeVector, Convert.ToHexStringLower(MySqlAuthentication.NativePasswordProof("s3cret-Pw", [.. Scramble, 0])));

    [Fact]
    public void Empty_password_sends_an_empty_response()
    {
        Assert.Empty(MySqlAuthentication.NativePasswordProof(string.Empty, Scramble));
        Assert.Empty(MySqlAuthentication.CachingSha2Proof(string.Empty, Scramble));
    }

    [Fact]
    public void Native_proof_is_what_the_server_verifies_from_its_stored_hash()
    {
        // The server stores SHA1(SHA1(p)) and checks SHA1(proof XOR SHA1(scramble + stored)) == stored.
        byte[] stored = SHA1.HashData(SHA1.HashData(Encoding.UTF8.GetBytes("s3cret-Pw")));
        byte[] proof = MySqlAuthentication.NativePasswordProof("s3cret-Pw", Scramble);
        byte[] mix = SHA1.HashData([.. Scramble, .. stored]);
        byte[] stage1 = [.. proof.Zip(mix, (a, b) => (byte)(a ^ b))];

        Assert.Equal(stored, SHA1.HashData(stage1));
    }

    [Fact]
    public void Full_authentication_encrypts_the_nul_terminated_password_xor_scramble_with_oaep()
    {
        using var rsa = RSA.Create(2048);
        string pem = rsa.ExportSubjectPublicKeyInfoPem();

        byte[] encrypted = MySqlAuthentication.EncryptPassword("s3cret-Pw", Scramble, pem);
        byte[] plain = rsa.Decrypt(encrypted, RSAEncryptionPadding.OaepSHA1);

        byte[] expected = [.. "s3cret-Pw\0"u8.ToArray().Select((b, i) => (byte)(b ^ Scramble[i % 20]))];
        Assert.Equal(expected, plain);
    }
}
