using System.Security.Cryptography;
using System.Text;

namespace VipProxy.HealthChecks.Probes.MySql;

/// <summary>
/// The password proofs of the two authentication plugins that MySQL 8 and MariaDB use by default. The password
/// itself never crosses a plain connection: only a hash mixed with the server's one-time scramble (or, for a
/// caching_sha2_password full authentication, the password encrypted with the server's RSA key).
/// </summary>
internal static class MySqlAuthentication
{
    public const string NativePassword = "mysql_native_password";
    public const string CachingSha2Password = "caching_sha2_password";

    /// <summary>The scramble is 20 bytes; servers send it NUL-terminated, which is not part of it.</summary>
    public const int ScrambleLength = 20;

    public static bool IsSupported(string plugin) => plugin is NativePassword or CachingSha2Password;

    /// <summary>The auth response for <paramref name="plugin"/>; empty for an empty password, as clients send.</summary>
    public static byte[] Respond(string plugin, string password, ReadOnlySpan<byte> scramble) => plugin switch
    {
        NativePassword => NativePasswordProof(password, scramble),
        CachingSha2Password => CachingSha2Proof(password, scramble),
        _ => throw new ArgumentException($"unsupported plugin {plugin}", nameof(plugin)),
    };

    /// <summary>mysql_native_password: <c>SHA1(password) XOR SHA1(scramble + SHA1(SHA1(password)))</c>.</summary>
    public static byte[] NativePasswordProof(string password, ReadOnlySpan<byte> scramble)
    {
        if (password.Length == 0)
        {
            return [];
        }

        // The protocol defines this proof with SHA-1; it is not our choice.
#pragma warning disable CA5350
        byte[] stage1 = SHA1.HashData(Encoding.UTF8.GetBytes(password));
        byte[] stage2 = SHA1.HashData(stage1);
        byte[] mix = SHA1.HashData([.. Scramble20(scramble), .. stage2]);
#pragma warning restore CA5350
        return Xor(stage1, mix);
    }

    /// <summary>caching_sha2_password fast path:
    /// <c>SHA256(password) XOR SHA256(SHA256(SHA256(password)) + scramble)</c>.</summary>
    public static byte[] CachingSha2Proof(string password, ReadOnlySpan<byte> scramble)
    {
        if (password.Length == 0)
        {
            return [];
        }

        byte[] stage1 = SHA256.HashData(Encoding.UTF8.GetBytes(password));
        byte[] stage2 = SHA256.HashData(stage1);
        byte[] mix = SHA256.HashData([.. stage2, .. Scramble20(scramble)]);
        return Xor(stage1, mix);
    }

    /// <summary>caching_sha2_password full authentication without TLS: the NUL-terminated password XOR the
    /// scramble (repeated), encrypted with the server's RSA public key (PEM) using OAEP padding (SHA-1), as
    /// MySQL 8 expects.</summary>
    public static byte[] EncryptPassword(string password, ReadOnlySpan<byte> scramble, string publicKeyPem)
    {
        byte[] plain = [.. Encoding.UTF8.GetBytes(password), 0];
        ReadOnlySpan<byte> key = Scramble20(scramble);
        for (int i = 0; i < plain.Length; i++)
        {
            plain[i] ^= key[i % key.Length];
        }

        using var rsa = RSA.Create();
        rsa.ImportFromPem(publicKeyPem);
        return rsa.Encrypt(plain, RSAEncryptionPadding.OaepSHA1);
    }

    private static ReadOnlySpan<byte> Scramble20(ReadOnlySpan<byte> scramble) =>
        scramble.Length > ScrambleLength ? scramble[..ScrambleLength] : scramble;

    private static byte[] Xor(byte[] left, byte[] right)
    {
        var result = new byte[left.Length];
        for (int i = 0; i < result.Length; i++)
        {
            result[i] = (byte)(left[i] ^ right[i]);
        }

        return result;
    }
}
