using System.Security.Cryptography;

namespace LatentLab.IO;

/// <summary>SHA-256 helpers; digests are lower-case hex, as <c>sha256sum</c> prints them.</summary>
public static class Hashing
{
    public static string Sha256Hex(ReadOnlySpan<byte> bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    public static string Sha256Hex(Stream stream) => Convert.ToHexStringLower(SHA256.HashData(stream));

    public static string FileSha256(string path)
    {
        using var stream = File.OpenRead(path);
        return Sha256Hex(stream);
    }
}
