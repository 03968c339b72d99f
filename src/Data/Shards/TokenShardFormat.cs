using System.Buffers.Binary;

namespace Orleans.MoE.Data.Shards;

/// <summary>The element type of the tokens in a shard.</summary>
public enum TokenDtype : uint
{
    UInt16 = 2,
    UInt32 = 4,
}

/// <summary>
/// The layout of a token shard file (all integers little-endian):
/// <code>
/// offset  size  field
///      0     8  magic "MOETOKS\0"
///      8     4  version (2; version 1 is read too)
///     12     4  token dtype: 2 = uint16, 4 = uint32 (the element size in bytes)
///     16     8  token count N
///     24     4  vocabulary size V (every token id is below V)
///     28     4  largest token id in the shard, -1 when it holds no token (version 2; reserved 0 in version 1)
///     32     8  document count D
///     40    24  reserved (0)
///     64   N*s  tokens
///      …  (D+1)*8  document index: uint64 token offsets; document d is tokens [index[d], index[d+1])
/// </code>
/// The index comes after the tokens so that a writer can stream documents without knowing the
/// counts in advance; the file length is exactly determined by the header, which is how a
/// truncated file is detected. The largest id lets a reader refuse a shard whose ids do not fit its
/// vocabulary, or a model's, without reading the tokens; a version-1 shard, which lacks it, is
/// scanned once when opened (<see cref="TokenShardHeader.MaxTokenId"/> is null in its header).
/// </summary>
public readonly record struct TokenShardHeader(TokenDtype Dtype, long TokenCount, int VocabSize, long DocumentCount, int? MaxTokenId)
{
    public const int Size = 64;
    public const uint CurrentVersion = 2;

    /// <summary>The first version, without the largest token id.</summary>
    public const uint VersionWithoutMaxTokenId = 1;
    public static ReadOnlySpan<byte> Magic => "MOETOKS\0"u8;

    public int ElementSize => (int)Dtype;

    public long TokensOffset => Size;

    public long IndexOffset => Size + TokenCount * ElementSize;

    public long FileLength => IndexOffset + (DocumentCount + 1) * sizeof(long);

    /// <summary>The smallest dtype that holds every id below the vocabulary size.</summary>
    public static TokenDtype DtypeFor(int vocabSize) => vocabSize <= ushort.MaxValue + 1 ? TokenDtype.UInt16 : TokenDtype.UInt32;

    public void Write(Span<byte> destination)
    {
        destination[..Size].Clear();
        Magic.CopyTo(destination);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[8..], CurrentVersion);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[12..], (uint)Dtype);
        BinaryPrimitives.WriteInt64LittleEndian(destination[16..], TokenCount);
        BinaryPrimitives.WriteInt32LittleEndian(destination[24..], VocabSize);
        BinaryPrimitives.WriteInt32LittleEndian(destination[28..], MaxTokenId ?? throw new InvalidOperationException("a shard header is written with its largest token id"));
        BinaryPrimitives.WriteInt64LittleEndian(destination[32..], DocumentCount);
    }

    /// <summary>Parses and checks a header; every problem names the file.</summary>
    public static TokenShardHeader Read(ReadOnlySpan<byte> source, long fileLength, string path)
    {
        if (fileLength < Size)
            throw new TokenShardFormatException(path, $"file is {fileLength} bytes, shorter than the {Size}-byte header (truncated, or not a token shard)");
        if (!source[..8].SequenceEqual(Magic))
            throw new TokenShardFormatException(path, $"wrong magic '{Printable(source[..8])}' (expected 'MOETOKS'): not a token shard");
        var version = BinaryPrimitives.ReadUInt32LittleEndian(source[8..]);
        if (version is not (CurrentVersion or VersionWithoutMaxTokenId))
            throw new TokenShardFormatException(path, $"format version {version} is not supported (this reader reads versions {VersionWithoutMaxTokenId} and {CurrentVersion}); rebuild the shard with this version");
        var dtype = (TokenDtype)BinaryPrimitives.ReadUInt32LittleEndian(source[12..]);
        if (dtype is not (TokenDtype.UInt16 or TokenDtype.UInt32))
            throw new TokenShardFormatException(path, $"token dtype code {(uint)dtype} is unknown (2 = uint16, 4 = uint32)");
        var count = BinaryPrimitives.ReadInt64LittleEndian(source[16..]);
        var vocab = BinaryPrimitives.ReadInt32LittleEndian(source[24..]);
        var documents = BinaryPrimitives.ReadInt64LittleEndian(source[32..]);
        if (count < 0 || documents < 0 || count > fileLength || documents > fileLength)
            throw new TokenShardFormatException(path, $"header holds impossible counts (tokens {count}, documents {documents}): corrupt");
        if (vocab <= 0 || (dtype == TokenDtype.UInt16 && vocab > ushort.MaxValue + 1))
            throw new TokenShardFormatException(path, $"vocabulary size {vocab} does not fit token dtype {dtype}");
        int? maxTokenId = version == VersionWithoutMaxTokenId ? null : BinaryPrimitives.ReadInt32LittleEndian(source[28..]);
        if (maxTokenId is { } max && (count == 0 ? max != -1 : max < 0))
            throw new TokenShardFormatException(path, $"header gives the largest token id as {max} for {count} tokens: corrupt");
        var header = new TokenShardHeader(dtype, count, vocab, documents, maxTokenId);
        if (header.FileLength != fileLength)
            throw new TokenShardFormatException(path,
                $"file is {fileLength} bytes but its header ({count} {dtype} tokens, {documents} documents) needs exactly {header.FileLength} (truncated or corrupt)");
        return header;
    }

    private static string Printable(ReadOnlySpan<byte> bytes)
    {
        var chars = new char[bytes.Length];
        for (var i = 0; i < bytes.Length; i++) chars[i] = bytes[i] is >= 0x20 and < 0x7F ? (char)bytes[i] : '.';
        return new string(chars);
    }
}
