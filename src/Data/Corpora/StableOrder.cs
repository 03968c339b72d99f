using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace Orleans.MoE.Data.Corpora;

/// <summary>
/// A fixed pseudo-random order of items by the SHA-256 of a key: the same on every machine and
/// run, independent of how the file system lists files, and unrelated to alphabetical order (so a
/// size cap takes a spread of the source rather than its first files).
/// </summary>
internal static class StableOrder
{
    public static ulong Hash(string key) => Hash(Encoding.UTF8.GetBytes(key));

    public static ulong Hash(ReadOnlySpan<byte> bytes)
    {
        Span<byte> digest = stackalloc byte[32];
        SHA256.HashData(bytes, digest);
        return BinaryPrimitives.ReadUInt64LittleEndian(digest);
    }

    public static IEnumerable<T> By<T>(IEnumerable<T> items, Func<T, string> key) =>
        items.Select(i => (Item: i, Key: key(i))).OrderBy(p => Hash(p.Key)).ThenBy(p => p.Key, StringComparer.Ordinal).Select(p => p.Item);
}
