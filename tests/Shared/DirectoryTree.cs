using System.Security.Cryptography;
using System.Text;

namespace Orleans.MoE.Tests.Shared;

/// <summary>
/// A fingerprint of everything under a directory (every file's relative path and bytes, every
/// directory's relative path, hidden ones included), to assert that a refused command changed nothing
/// on disk. Compiled into the test projects that need it (tests/Shared).
/// </summary>
internal static class DirectoryTree
{
    public static string Hash(string root)
    {
        if (!Directory.Exists(root)) return File.Exists(root) ? "file:" + Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(root))) : "absent";
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var entries = Directory.EnumerateFileSystemEntries(root, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 })
            .Select(e => Path.GetRelativePath(root, e))
            .Order(StringComparer.Ordinal);
        foreach (var relative in entries)
        {
            var full = Path.Combine(root, relative);
            var isDirectory = Directory.Exists(full);
            hash.AppendData(Encoding.UTF8.GetBytes((isDirectory ? "d " : "f ") + relative + "\n"));
            if (!isDirectory) hash.AppendData(SHA256.HashData(File.ReadAllBytes(full)));
        }
        return Convert.ToHexString(hash.GetHashAndReset());
    }
}
